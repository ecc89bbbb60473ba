package io.dermcap.it.audit;

import io.dermcap.config.Config;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.it.service.ServiceScenario;
import io.dermcap.model.Caption;
import io.dermcap.model.Captioner;
import io.dermcap.model.ForwardingCaptioner;
import io.dermcap.model.ModelException;
import io.dermcap.service.CaptionService;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit page in a real browser (Debian's headless Chromium through its chromedriver): a wrong
 * token sees nothing; the right one searches a request id and sees the caption, the lineage rows
 * and the loaded image; a failed request shows its code; a caption with HTML in it shows as text.
 * Screenshots go to target/audit-page-*.png.
 */
class AuditPageIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    /** Appended to every caption by the test's engine decorator: markup that must stay text. */
    static final String HOSTILE = " <script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\"><b>bold</b>";

    @Test
    void aPersonWithTheTokenSeesCaptionLineageAndImageAndNobodyElseSeesAnything() throws Exception {
        try (ServiceScenario s = new ServiceScenario(1)) {
            Map<String, String> settings = new HashMap<>(AuditClient.settings(0));
            settings.put("instance.id", "page");
            settings.put("kafka.state.dir", s.dir.resolve("state-page").toString());
            settings.put("http.port", "0");
            Map<String, String> env = new HashMap<>();
            settings.forEach((k, v) -> env.put("DERMCAP_" + k.toUpperCase().replace('.', '_'), v));
            try (CaptionService service = CaptionService.start(Config.load(s.writeConfig("page", Map.of()), env),
                    AuditPageIT::withHostileCaptions)) {
                CaptionRequest ok = s.lesionRequests("page", 1).get(0);
                CaptionRequest missing = ServiceScenario.request("page-missing", s.uri("page/none.img"));
                s.send(List.of(ok, missing));
                CaptionEvent caption = s.awaitOutcomes(o -> o.distinctKeys() >= 2, TIMEOUT).captions().get(0);
                assertThat(caption.getCaption().toString()).endsWith(HOSTILE);

                WebDriver browser = chromium(s.dir.resolve("chromium-profile"));
                try {
                    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
                    browser.get(service.auditUrl());

                    // a wrong token: refused, and no outcome reaches the page
                    login(browser, "not-the-token");
                    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("login-error"), "refused"));
                    assertThat(browser.findElement(By.id("app")).isDisplayed()).isFalse();
                    assertThat(browser.getPageSource()).doesNotContain(ok.getRequestId().toString(), "page-missing");
                    screenshot(browser, "wrong-token");

                    login(browser, AuditClient.TOKEN);
                    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("app")));
                    wait.until(d -> d.findElements(By.cssSelector("#latest tbody tr")).size() >= 2);

                    search(browser, ok.getRequestId().toString());
                    WebElement card = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(".outcome.caption-ok")));
                    assertThat(card.findElement(By.className("caption")).getText()).isEqualTo(caption.getCaption().toString().strip());
                    String lineage = card.findElement(By.cssSelector("table.lineage")).getText();
                    assertThat(lineage).contains("model.bundle_name", caption.getModel().getBundleName().toString(),
                            "model.bundle_version", "model.graph_sha256.", "model.opset");
                    WebElement img = wait.until(d -> d.findElements(By.cssSelector("img.thumbnail")).stream().findFirst().orElse(null));
                    wait.until(d -> (Boolean) ((JavascriptExecutor) d).executeScript(
                            "return arguments[0].complete && arguments[0].naturalWidth > 0", img));
                    assertThat(((Number) ((JavascriptExecutor) browser).executeScript("return arguments[0].naturalWidth", img))
                            .intValue()).isBetween(1, 320);
                    // the caption's markup stayed text: no script ran, no element was made from it
                    assertThat(((JavascriptExecutor) browser).executeScript("return window.__pwned === undefined")).isEqualTo(true);
                    assertThat(browser.findElements(By.cssSelector(".caption b, .caption img, .caption script"))).isEmpty();
                    screenshot(browser, "caption");

                    search(browser, "page-missing");
                    WebElement code = wait.until(ExpectedConditions.visibilityOfElementLocated(By.className("failure-code")));
                    assertThat(code.getText()).isEqualTo("OBJECT_MISSING");
                    screenshot(browser, "failure");
                } finally {
                    browser.quit();
                }
            }
        }
    }

    private static void login(WebDriver browser, String token) {
        WebElement field = browser.findElement(By.id("token"));
        field.clear();
        field.sendKeys(token);
        browser.findElement(By.id("login")).click();
    }

    private static void search(WebDriver browser, String requestId) {
        WebElement query = browser.findElement(By.id("query"));
        query.clear();
        query.sendKeys(requestId);
        browser.findElement(By.id("search")).click();
    }

    /** Debian's chromium, headless, as root in a container, with a fresh profile and no network extras. */
    static WebDriver chromium(Path profile) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(System.getProperty("dermcap.chromium", "/usr/bin/chromium"));
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--user-data-dir=" + profile.toAbsolutePath());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(System.getProperty("dermcap.chromedriver", "/usr/bin/chromedriver")))
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private static void screenshot(WebDriver browser, String name) throws Exception {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Path target = Path.of("target", "audit-page-" + name + ".png");
        Files.createDirectories(target.getParent());
        Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The real engine, with {@link #HOSTILE} appended to every caption. */
    private static Captioner withHostileCaptions(Captioner engine) {
        return new ForwardingCaptioner(engine) {
            @Override
            public List<Caption> caption(List<Request> batch) throws ModelException {
                return delegate.caption(batch).stream().map(c -> new Caption(c.text() + HOSTILE, c.tokenIds(),
                        c.finishReason(), c.batchSize(), c.encodeNanos(), c.decodeNanos())).toList();
            }
        };
    }
}
