package io.pgwarden.plugins.approveremail;

import io.pgwarden.plugin.api.ApprovalRequest;
import io.pgwarden.plugin.api.Approver;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends each recipient a plain-text message: who asks, the statement, the rule that held it,
 * when it expires, and that recipient's own approve and deny links. With {@code tls:
 * starttls} the connection must be upgraded before anything (credentials included) is sent;
 * the server's certificate is checked against the JDK's trust store and its host name.
 */
final class EmailApprover implements Approver {
    private static final Logger LOG = LoggerFactory.getLogger(EmailApprover.class);

    private final EmailApproverFactory.Settings settings;
    private final String instance;
    private final Session session;

    EmailApprover(EmailApproverFactory.Settings settings, String instance) {
        this.settings = settings;
        this.instance = instance;
        this.session = withOwnClassLoader(() -> Session.getInstance(properties(settings)));
    }

    /**
     * Jakarta Mail finds its providers (ServiceLoader) through the thread's context class
     * loader; the gateway's threads carry the gateway's, which does not hold this plugin's copy.
     */
    private static <T, E extends Exception> T withOwnClassLoader(Action<T, E> action) throws E {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(EmailApprover.class.getClassLoader());
        try {
            return action.run();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    @FunctionalInterface
    private interface Action<T, E extends Exception> {
        T run() throws E;
    }

    private static Properties properties(EmailApproverFactory.Settings s) {
        String protocol = s.tls() == EmailApproverFactory.Tls.IMPLICIT ? "smtps" : "smtp";
        Properties p = new Properties();
        p.setProperty("mail.transport.protocol", protocol);
        p.setProperty("mail." + protocol + ".host", s.host());
        p.setProperty("mail." + protocol + ".port", Integer.toString(s.port()));
        String millis = Long.toString(s.timeout().toMillis());
        p.setProperty("mail." + protocol + ".connectiontimeout", millis);
        p.setProperty("mail." + protocol + ".timeout", millis);
        p.setProperty("mail." + protocol + ".writetimeout", millis);
        p.setProperty("mail." + protocol + ".auth", Boolean.toString(s.username() != null));
        if (s.tls() == EmailApproverFactory.Tls.STARTTLS) {
            p.setProperty("mail.smtp.starttls.enable", "true");
            p.setProperty("mail.smtp.starttls.required", "true");
        }
        if (s.tls() != EmailApproverFactory.Tls.NONE) {
            p.setProperty("mail." + protocol + ".ssl.checkserveridentity", "true");
        }
        return p;
    }

    @Override
    public void deliver(ApprovalRequest request, LinkMaker links) throws MessagingException {
        withOwnClassLoader(() -> {
            send(request, links);
            return null;
        });
    }

    private void send(ApprovalRequest request, LinkMaker links) throws MessagingException {
        try (Transport transport = session.getTransport()) {
            transport.connect(settings.host(), settings.port(), settings.username(), settings.password());
            List<String> failed = new ArrayList<>();
            for (InternetAddress to : settings.to()) {
                MimeMessage message = message(request, to, links.forRecipient(to.getAddress()));
                try {
                    transport.sendMessage(message, new InternetAddress[] {to});
                } catch (MessagingException e) {
                    LOG.warn("{}: approval request {} not delivered to {}: {}", instance, request.id(), to.getAddress(), e.getMessage());
                    failed.add(to.getAddress());
                }
            }
            if (!failed.isEmpty()) {
                throw new MessagingException("not delivered to " + String.join(", ", failed));
            }
        }
    }

    MimeMessage message(ApprovalRequest r, InternetAddress to, ApprovalRequest.Links links) throws MessagingException {
        MimeMessage m = new MimeMessage(session);
        m.setFrom(settings.from());
        m.setRecipient(Message.RecipientType.TO, to);
        m.setSentDate(new Date());
        m.setSubject("[pgwarden] approval needed: " + r.identity() + " (" + r.id() + ")", "UTF-8");
        m.setText(body(r, links), "UTF-8");
        return m;
    }

    static String body(ApprovalRequest r, ApprovalRequest.Links links) {
        return """
                pgwarden holds a statement until someone decides on it.

                Request:   %s
                Identity:  %s (groups: %s)
                Client:    %s, database %s, session %s
                Rule:      %s
                Why:       %s
                Expires:   %s (then it is refused)

                Statement:
                %s

                Approve: %s
                Deny:    %s

                Each link opens a page on the gateway where you confirm; it is yours alone (the
                decision is recorded in your name) and works once. The inbox: %s
                """.formatted(r.id(), r.identity(), String.join(", ", r.groups()), r.clientAddress(), r.database(),
                r.sessionId(), r.rule(), r.reason(), r.expires(), r.statement().indent(4).stripTrailing(), links.approve(),
                links.deny(), r.page());
    }
}
