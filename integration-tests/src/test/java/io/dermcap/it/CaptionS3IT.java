package io.dermcap.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.Sha256;
import io.dermcap.cli.Main;
import io.dermcap.demo.SyntheticLesions;
import io.dermcap.it.servers.TestServers;
import io.dermcap.it.service.ServiceScenario;
import io.dermcap.storage.StorageFetcher;
import io.dermcap.storage.StorageOptionsBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code dermcap caption s3://bucket/prefix/} against a real S3 API server: the prefix listed page
 * by page behind the bucket allow-list, every image fetched and captioned by the service's pipeline.
 */
class CaptionS3IT {

    private static final TestServers SERVERS = TestServers.shared();
    private static final String BUCKET = "it-caption-" + UUID.randomUUID().toString().substring(0, 8);
    private static final int IMAGES = 5;
    private static final List<String> KEYS = new ArrayList<>();
    private static final List<byte[]> BYTES = new ArrayList<>();

    @BeforeAll
    static void upload() {
        TestServers.S3Endpoint s3 = SERVERS.s3();
        s3.createBucket(BUCKET);
        for (int i = 0; i < IMAGES; i++) {
            SyntheticLesions.Image image = SyntheticLesions.generate(i);
            String key = "scans/" + i + "." + image.format().extension();
            s3.put(BUCKET, key, image.bytes());
            KEYS.add(key);
            BYTES.add(image.bytes());
        }
        s3.put(BUCKET, "scans/notes.txt", "not an image".getBytes(StandardCharsets.UTF_8));
        s3.put(BUCKET, "other/0.png", BYTES.get(0));
    }

    @Test
    void theListingIsReadPageByPageAndStaysBehindTheAllowList() throws Exception {
        TestServers.S3Endpoint s3 = SERVERS.s3();
        try (StorageFetcher fetcher = new StorageFetcher(StorageOptionsBuilder.defaults().buckets(BUCKET).s3(s3.options()).build())) {
            List<String> expected = new ArrayList<>();
            KEYS.forEach(k -> expected.add("s3://" + BUCKET + "/" + k));
            expected.add("s3://" + BUCKET + "/scans/notes.txt");
            assertThat(fetcher.list("s3://" + BUCKET + "/scans/", 2)).containsExactlyElementsOf(expected);
            assertThat(fetcher.list("s3://" + BUCKET + "/", 2)).hasSize(IMAGES + 2);
        }
    }

    @Test
    void captionsEveryImageUnderThePrefixInKeyOrder() throws Exception {
        Run r = caption("--set", "storage.s3.buckets=" + BUCKET, "s3://" + BUCKET + "/scans/");
        assertThat(r.exit()).as(r.stderr()).isZero();
        assertThat(r.stdout()).hasSize(IMAGES);
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < IMAGES; i++) {
            JsonNode line = json.readTree(r.stdout().get(i));
            assertThat(line.get("path").asText()).isEqualTo("s3://" + BUCKET + "/" + KEYS.get(i));
            assertThat(line.get("sha256").asText()).isEqualTo(Sha256.of(BYTES.get(i)));
            assertThat(line.get("caption").asText()).isNotBlank();
        }

        Run refused = caption("--set", "storage.s3.buckets=some-other-bucket", "s3://" + BUCKET + "/scans/");
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.stdout()).isEmpty();
        assertThat(refused.stderr()).contains("URI_NOT_ALLOWED").contains("bucket '" + BUCKET + "' is not allow-listed");
    }

    record Run(int exit, List<String> stdout, String stderr) {
    }

    private static Run caption(String... args) {
        TestServers.S3Endpoint s3 = SERVERS.s3();
        List<String> command = new ArrayList<>(List.of("caption", "--bundle", ServiceScenario.TINY_BUNDLE.toString(), "--threads", "1",
                "--max-new-tokens", "4", "--min-new-tokens", "1", "--batch-size", "2",
                "--set", "storage.s3.endpoint=" + s3.endpoint(), "--set", "storage.s3.region=" + s3.region(),
                "--set", "storage.s3.path.style=true", "--set", "storage.s3.access.key.id=" + s3.accessKey(),
                "--set", "storage.s3.secret.access.key=" + s3.secretKey()));
        command.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(command.toArray(String[]::new));
        return new Run(exit, out.toString().lines().toList(), err.toString());
    }
}
