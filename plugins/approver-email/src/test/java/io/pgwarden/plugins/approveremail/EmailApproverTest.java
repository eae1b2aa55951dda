package io.pgwarden.plugins.approveremail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.pgwarden.plugin.api.ApprovalRequest;
import io.pgwarden.plugin.api.Approver;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The e-mail approver against a real SMTP server (GreenMail) on a free port. */
class EmailApproverTest {

    @RegisterExtension
    static final GreenMailExtension SMTP = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort())
            .withConfiguration(GreenMailConfiguration.aConfig().withUser("pgwarden", "s3cret"));

    private static final ApprovalRequest REQUEST = new ApprovalRequest("a1b2c3d4e5f6", "ci-loader", List.of("loaders"),
            "0011223344556677", "10.0.0.7", "app", "DELETE FROM public.orders", "policies[0].approve[0]",
            "DELETE without WHERE on public.orders", Instant.parse("2026-11-26T10:00:00Z"), Instant.parse("2026-11-26T10:10:00Z"),
            URI.create("https://gw.example.com:8080/approvals/a1b2c3d4e5f6"));

    private static Approver approver(Map<String, Object> smtp, Map<String, String> env) throws PluginConfigException {
        PluginConfig config = new PluginConfig("approvers[1]", Map.of("type", "email", "smtp", smtp,
                "from", "pgwarden@example.com", "to", List.of("dba@example.com", "Oncall <oncall@example.com>")));
        return new EmailApprover(EmailApproverFactory.settings(config, env::get), "approvers[1] (email)");
    }

    private static Approver.LinkMaker links() {
        return recipient -> new ApprovalRequest.Links(
                URI.create("https://gw.example.com:8080/approvals/a1b2c3d4e5f6/link?action=approve&to=" + recipient + "&sig=A"),
                URI.create("https://gw.example.com:8080/approvals/a1b2c3d4e5f6/link?action=deny&to=" + recipient + "&sig=D"));
    }

    @Test
    void eachRecipientGetsTheRequestWithLinksOfTheirOwn() throws Exception {
        Approver approver = approver(Map.of("host", "127.0.0.1", "port", SMTP.getSmtp().getPort(), "tls", "none",
                "username", "pgwarden", "password_env", "SMTP_PW"), Map.of("SMTP_PW", "s3cret"));
        approver.deliver(REQUEST, links());
        assertThat(SMTP.waitForIncomingEmail(10_000, 2)).isTrue();
        MimeMessage[] received = SMTP.getReceivedMessages();
        assertThat(received).hasSize(2);
        for (MimeMessage m : received) {
            String to = ((jakarta.mail.internet.InternetAddress) m.getAllRecipients()[0]).getAddress();
            String body = GreenMailUtil.getBody(m);
            assertThat(m.getSubject()).isEqualTo("[pgwarden] approval needed: ci-loader (a1b2c3d4e5f6)");
            assertThat(m.getFrom()[0].toString()).isEqualTo("pgwarden@example.com");
            assertThat(body).contains("Identity:  ci-loader (groups: loaders)").contains("    DELETE FROM public.orders")
                    .contains("Rule:      policies[0].approve[0]").contains("Why:       DELETE without WHERE on public.orders")
                    .contains("action=approve&to=" + to + "&sig=A").contains("action=deny&to=" + to + "&sig=D");
        }
        assertThat(received).extracting(m -> ((jakarta.mail.internet.InternetAddress) m.getAllRecipients()[0]).getAddress())
                .containsExactlyInAnyOrder("dba@example.com", "oncall@example.com");
    }

    @Test
    void aWrongPasswordIsAnErrorAndNothingIsSent() throws Exception {
        Approver approver = approver(Map.of("host", "127.0.0.1", "port", SMTP.getSmtp().getPort(), "tls", "none",
                "username", "pgwarden", "password_env", "SMTP_PW"), Map.of("SMTP_PW", "wrong"));
        assertThatThrownBy(() -> approver.deliver(REQUEST, links())).hasMessageContaining("uthentication");
        assertThat(SMTP.getReceivedMessages()).isEmpty();
    }

    @Test
    void starttlsIsRequiredByDefaultSoAServerWithoutTrustedTlsGetsNothing() throws Exception {
        Approver approver = approver(Map.of("host", "127.0.0.1", "port", SMTP.getSmtp().getPort(),
                "username", "pgwarden", "password_env", "SMTP_PW"), Map.of("SMTP_PW", "s3cret"));
        assertThatThrownBy(() -> approver.deliver(REQUEST, links())).isInstanceOf(jakarta.mail.MessagingException.class);
        assertThat(SMTP.getReceivedMessages()).isEmpty();
    }

    @Test
    void badConfigurationNamesTheKey() {
        assertThatThrownBy(() -> approver(Map.of("host", "smtp.example.com", "tls", "sometimes"), Map.of()))
                .hasMessageContaining("approvers[1].smtp.tls: must be starttls, implicit or none");
        assertThatThrownBy(() -> approver(Map.of("host", "smtp.example.com", "username", "u"), Map.of()))
                .hasMessageContaining("approvers[1].smtp: username and password_env go together");
        assertThatThrownBy(() -> approver(Map.of("host", "smtp.example.com", "username", "u", "password_env", "NOPE"), Map.of()))
                .hasMessageContaining("approvers[1].smtp.password_env: environment variable NOPE is not set");
        assertThatThrownBy(() -> new EmailApproverFactory().create(new PluginConfig("approvers[1]", Map.of("type", "email",
                "smtp", Map.of("host", "h"), "from", "pgwarden@example.com", "to", List.of("not an address"))),
                new PluginContext("approvers[1]", Clock.systemUTC(), Path.of("."))))
                .hasMessageContaining("approvers[1].to[0]: \"not an address\" is not an e-mail address");
    }
}
