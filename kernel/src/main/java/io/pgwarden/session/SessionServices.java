package io.pgwarden.session;

import io.netty.channel.group.ChannelGroup;
import io.pgwarden.approval.Approvals;
import io.pgwarden.audit.AuditLog;
import io.pgwarden.auth.AuthFailureLimiter;
import io.pgwarden.auth.AuthenticatorChain;
import io.pgwarden.config.GatewayConfig;
import io.pgwarden.jit.JitRoles;
import io.pgwarden.policy.PolicySelector;
import io.pgwarden.policy.StatementGateFactory;
import io.pgwarden.recording.Recorder;
import io.pgwarden.tls.ServerTls;
import io.pgwarden.upstream.UpstreamConnector;
import java.util.concurrent.Executor;

/**
 * What every session shares: built once at start-up by the gateway.
 *
 * @param tls              null when listen.tls.mode is disable
 * @param statementGates   decides on each statement of a session before it is forwarded
 * @param blockingExecutor runs plugin calls that may block (virtual threads), off the event loops
 * @param clientChannels   every open client channel, for the connection limit and shutdown
 * @param audit            the audit trail: intents before statements are forwarded, outcomes after
 * @param jit              makes and drops the sessions' roles on upstreams with jit.enabled
 * @param approvals        holds statements that approval rules match until a person decides
 * @param recorder         records sessions when recording.enabled (and reads recordings back)
 */
public record SessionServices(
        GatewayConfig config,
        ServerTls tls,
        AuthenticatorChain authenticators,
        AuthFailureLimiter authFailures,
        PolicySelector policies,
        StatementGateFactory statementGates,
        UpstreamConnector upstreams,
        SessionRegistry registry,
        Executor blockingExecutor,
        ChannelGroup clientChannels,
        AuditLog audit,
        JitRoles jit,
        Approvals approvals,
        Recorder recorder) {
}
