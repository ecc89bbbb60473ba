package io.dermcap.topology;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class StaticMembershipTest {

    @Test
    void theInstanceIdIsTheGroupInstanceIdAndTheSessionTimeoutCoversARestart() {
        Properties p = StaticMembership.apply(new Properties(), "dermcap-0", Duration.ofSeconds(20));
        assertThat(p.getProperty("group.instance.id")).isEqualTo("dermcap-0");
        assertThat(p.getProperty("session.timeout.ms")).isEqualTo("60000");
    }

    @Test
    void theSessionTimeoutStaysBetweenKafkasDefaultAndFiveMinutes() {
        assertThat(StaticMembership.sessionTimeout(Duration.ofSeconds(2))).isEqualTo(Duration.ofSeconds(45));
        assertThat(StaticMembership.sessionTimeout(Duration.ofMinutes(4))).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void theUsersOwnSettingsWin() {
        Properties user = new Properties();
        user.put("main.consumer.group.instance.id", "mine");
        user.put("session.timeout.ms", "10000");
        Properties p = StaticMembership.apply(user, "dermcap-0", Duration.ofSeconds(20));
        assertThat(p.getProperty("group.instance.id")).isNull();
        assertThat(p.getProperty("session.timeout.ms")).isEqualTo("10000");
    }
}
