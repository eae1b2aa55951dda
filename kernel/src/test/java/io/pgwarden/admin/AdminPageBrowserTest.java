package io.pgwarden.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.approval.ApprovalRecord;
import io.pgwarden.approval.ApprovalStatus;
import io.pgwarden.audit.AuditEntry;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.testing.ApprovalFixture;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The admin page in a real browser (Debian's chromium through chromedriver, headless): an
 * approver logs in, sees a held statement appear in the inbox without reloading (server-sent
 * events), clicks Approve, and the agent's waiting statement completes.
 */
class AdminPageBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String DELETER = ApprovalFixture.DELETER;
    private static final String PASSWORD = "correct horse battery staple";

    private LocalPostgres pg;
    private TestGateway gateway;
    private WebDriver browser;

    @BeforeEach
    void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "chromium and chromium-driver are not installed (.ci/run installs them)");
        pg = TestPostgres.shared();
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS browser_items");
            s.execute("CREATE TABLE browser_items AS SELECT g AS id FROM generate_series(1, 7) g");
        }
        gateway = TestGateway.start(TestGateway.yaml(pg, TestGateway.Settings.defaults(pg), ApprovalFixture.deleterKeys("browser-test-keys", ""),
                ApprovalFixture.heldPolicy("""
                      - { when: { commands: [DELETE], without_where: true }, approvers: [web] }
                """)) + "recording: { enabled: true }\n", pg.password());
        gateway.gateway().adminUsers().createOrUpdate("alice", PASSWORD.toCharArray());
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,900");
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build(), options);
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (gateway != null) {
            gateway.close();
        }
    }

    private Connection direct() throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(TestPostgres.DATABASE), pg.superuser(), pg.password());
    }

    private long items() throws SQLException {
        try (Connection c = direct(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM browser_items")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void logIn(String password) {
        browser.get(gateway.gateway().adminUrl().resolve("/").toString());
        new WebDriverWait(browser, Duration.ofSeconds(30)).until(ExpectedConditions.presenceOfElementLocated(By.id("user")));
        browser.findElement(By.id("user")).sendKeys("alice");
        browser.findElement(By.id("password")).sendKeys(password);
        browser.findElement(By.id("login")).click();
    }

    private void screenshot(String name) throws Exception {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Path dir = Files.createDirectories(Path.of("target/screenshots"));
        Files.copy(shot.toPath(), dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void anApproverSeesTheHeldStatementAppearAndApprovesItAndTheClientCompletes() throws Exception {
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        logIn("not the password");
        assertThat(wait.until(ExpectedConditions.presenceOfElementLocated(By.id("login-error"))).getText())
                .isEqualTo("Wrong user name or password.");
        screenshot("admin-login.png");
        logIn(PASSWORD);
        wait.until(ExpectedConditions.textToBe(By.id("live"), "live"));
        assertThat(browser.findElement(By.id("me")).getText()).isEqualTo("alice");

        String requestId;
        try (Connection c = ApprovalFixture.deleter(gateway); Statement s = c.createStatement()) {
            CompletableFuture<Integer> deleted = ApprovalFixture.inBackground(() -> s.executeUpdate("DELETE FROM browser_items"));

            // It appears without a reload: the inbox listens to server-sent events.
            WebElement row = wait.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("#approvals-table tr.pending[data-statement='DELETE FROM browser_items']")));
            String id = row.getAttribute("id").substring("approval-".length());
            requestId = id;
            assertThat(row.getText()).contains(DELETER).contains("DELETE without WHERE on browser_items");
            assertThat(items()).isEqualTo(7);
            row.findElement(By.cssSelector("input.reason")).sendKeys("approved in the browser test");
            screenshot("admin-approvals.png");
            row.findElement(By.cssSelector("button.approve")).click();

            assertThat(deleted.get(60, TimeUnit.SECONDS)).isEqualTo(7);
            wait.until(ExpectedConditions.textToBe(By.cssSelector("#approval-" + id + " td.status"), "approved"));
            screenshot("admin-approved.png");
            ApprovalRecord decided = gateway.gateway().approvals().record(id).orElseThrow();
            assertThat(decided.status()).isEqualTo(ApprovalStatus.APPROVED);
            assertThat(decided.decidedBy()).isEqualTo("alice");
            assertThat(decided.decidedVia()).isEqualTo("web");
        }
        assertThat(items()).isZero();
        AuditEvent ran = gateway.gateway().audit().list(DELETER, null, 1000).stream().map(AuditEntry::event)
                .filter(e -> "ALLOW".equals(e.decision()) && "DELETE FROM browser_items".equals(e.statement())).findFirst().orElseThrow();
        assertThat(ran.reason()).endsWith("approved by alice via web: approved in the browser test");

        // The session's recording plays back step by step: the hold, the approval, the result.
        browser.findElement(By.cssSelector("nav a[data-tab=sessions]")).click();
        WebElement replayLink = wait.until(ExpectedConditions.presenceOfElementLocated(By.xpath(
                "//table[@id='sessions-table']//tr[td[2]='" + DELETER + "']//a[@class='replay']")));
        replayLink.click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("replay-position"), "step 1 of"));
        assertThat(browser.findElement(By.id("replay-transcript")).getText()).contains("session").contains(DELETER)
                .doesNotContain("DELETE FROM browser_items");
        browser.findElement(By.id("replay-step")).click();
        wait.until(ExpectedConditions.textToBe(By.id("replay-position"), "step 2 of " + browser.findElements(By.cssSelector("#replay-steps li")).size()));
        browser.findElement(By.id("replay-speed")).sendKeys("100×");
        browser.findElement(By.id("replay-play")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("replay-transcript"), "DELETE 7"));
        String transcript = browser.findElement(By.id("replay-transcript")).getText();
        assertThat(transcript).contains("held for approval: request " + requestId)
                .contains("approved by alice via web: approved in the browser test");
        assertThat(transcript.indexOf("held for approval")).isLessThan(transcript.indexOf("DELETE 7"));
        assertThat(browser.findElement(By.id("replay-download")).getAttribute("href")).endsWith("/download");
        screenshot("admin-replay.png");

        // The other pages render from the same API.
        browser.findElement(By.cssSelector("nav a[data-tab=policies]")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("policies-json"), "\"without_where\": true"));
        browser.findElement(By.cssSelector("nav a[data-tab=health]")).click();
        wait.until(ExpectedConditions.textToBe(By.id("health-status"), "ok"));
    }
}
