package io.dermcap.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AddressClassTest {

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({
            "93.184.216.34, PUBLIC",
            "8.8.8.8, PUBLIC",
            "2606:2800:220:1::1, PUBLIC",
            "127.0.0.1, LOOPBACK",
            "127.255.255.254, LOOPBACK",
            "::1, LOOPBACK",
            "10.1.2.3, PRIVATE",
            "172.16.0.1, PRIVATE",
            "172.31.255.255, PRIVATE",
            "172.32.0.1, PUBLIC",
            "192.168.0.1, PRIVATE",
            "100.64.0.1, PRIVATE",
            "fc00::1, PRIVATE",
            "fd12:3456::1, PRIVATE",
            "fec0::1, PRIVATE",
            "169.254.0.1, LINK_LOCAL",
            "fe80::1, LINK_LOCAL",
            "169.254.169.254, METADATA",
            "169.254.170.2, METADATA",
            "100.100.100.200, METADATA",
            "fd00:ec2::254, METADATA",
            "0.0.0.0, UNSPECIFIED",
            "::, UNSPECIFIED",
            "224.0.0.251, MULTICAST",
            "ff02::1, MULTICAST",
            "0.1.2.3, RESERVED",
            "240.0.0.1, RESERVED",
            "255.255.255.255, RESERVED",
            "192.0.2.1, RESERVED",
            "198.18.0.1, RESERVED",
            "2001:db8::1, RESERVED",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2, RESERVED",
            "::ffff:10.0.0.1, PRIVATE",
            "::169.254.169.254, METADATA",
            "64:ff9b::7f00:1, LOOPBACK",
            "64:ff9b::808:808, PUBLIC",
            "64:ff9b:1::1, RESERVED",
            "2002:c0a8:0101::1, PRIVATE",
            "2002:0808:0808::1, PUBLIC",
            "4000::1, RESERVED"
    })
    void classifies(String address, AddressClass expected) throws UnknownHostException {
        assertThat(AddressClass.of(InetAddress.getByName(address))).isEqualTo(expected);
    }
}
