package io.dermcap.topology;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.storage.FetchException;
import io.dermcap.testing.FakeCaptioner;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** At INFO (the production level) no log line carries caption text, URIs or passthrough identifiers. */
class LogPrivacyTest {

    @Test
    void infoLogsCarryNoCaptionTextOrIdentifiers() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger dermcap = (Logger) LoggerFactory.getLogger("io.dermcap");
        Level before = dermcap.getLevel();
        dermcap.setLevel(Level.INFO);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        root.addAppender(appender);
        List<String> secrets = new ArrayList<>();
        try (TopologyHarness h = new TopologyHarness()) {
            h.captioner.failingBatches.add(2);
            int n = 0;
            for (int i = 0; i < 8; i++) {
                String uri = "s3://ward-7/patient-jane-doe-" + i + "/lesion.jpg";
                h.fetcher.put(uri, i);
                CaptionRequest r = TopologyHarness.request("req-" + i, uri);
                secrets.add(r.getIds().getStudyInstanceUid());
                secrets.add(r.getIds().getCorrelation().get("order"));
                secrets.add(uri);
                h.requests.pipeInput(r.getRequestId(), r);
                n++;
            }
            String missing = "s3://ward-7/patient-john-roe/missing.jpg";
            h.fetcher.fail(missing, new FetchException(FetchException.Reason.OBJECT_MISSING, false, 1, "no such object " + missing, null));
            h.requests.pipeInput("m", TopologyHarness.request("m", missing));
            h.requests.pipeInput("bad", TopologyHarness.request("bad", "patient john roe.jpg"));
            h.rawRequests.pipeInput("raw".getBytes(), "patient=jane-doe".getBytes(StandardCharsets.UTF_8));
            secrets.add(missing);
            secrets.add("patient john roe");
            secrets.add("jane-doe");
            n += 3;
            h.awaitOutcomes(n);
            for (var kv : h.captionsSeen) {
                CaptionEvent e = kv.value;
                secrets.add(e.getCaption());
            }
            assertThat(h.captionsSeen).isNotEmpty();
            assertThat(h.failuresSeen).hasSizeGreaterThanOrEqualTo(4);
            secrets.add(FakeCaptioner.captionFor(0).substring(0, 18));
        } finally {
            root.detachAppender(appender);
            dermcap.setLevel(before);
        }
        List<String> lines = new ArrayList<>();
        for (ILoggingEvent e : appender.list) {
            if (e.getLevel().isGreaterOrEqual(Level.INFO)) {
                lines.add(e.getFormattedMessage()
                        + (e.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(e.getThrowableProxy())));
            }
        }
        assertThat(lines).as("the scenario logged at INFO").isNotEmpty();

        for (String line : lines) {
            for (String secret : secrets) {
                assertThat(line).doesNotContain(secret);
            }
        }
    }
}
