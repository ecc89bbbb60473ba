package io.dermcap.it.faults;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The log check must be able to fail: a planted identifier or caption text is found (no servers needed). */
class LogCheckIT {

    @Test
    void findsAnIdentifierOrACaptionTextInALog() throws Exception {
        Path dir = Files.createTempDirectory("dermcap-logcheck-");
        Files.writeString(dir.resolve("a.log"), "ts=1 level=INFO event=x study=2.25.1234567890123.\n");
        assertThatThrownBy(() -> LogCheck.assertNoPrivateData(dir, Set.of("2.25.1234567890123"), List.of()))
                .hasMessageContaining("identifier 2.25.1234567890123");

        Files.writeString(dir.resolve("a.log"), "ts=1 level=INFO text=a pigmented lesion with irregular borders\n");
        assertThatThrownBy(() -> LogCheck.assertNoPrivateData(dir, Set.of(), List.of(" a pigmented lesion with irregular borders")))
                .hasMessageContaining("caption text 'a pigmented lesion with irregular borders'");

        assertThat(LogCheck.assertNoPrivateData(dir, Set.of("2.25.99"), List.of("another caption entirely"))).isOne();
    }
}
