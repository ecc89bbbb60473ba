package io.dermcap.storage;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The kind of network an IP address belongs to, for refusing server-side request forgery: an
 * https URI from a request may only lead to the address classes the operator allows (PUBLIC by
 * default). IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are classified
 * by the IPv4 address they lead to.
 */
public enum AddressClass {
    PUBLIC,
    /** 127/8, ::1 */
    LOOPBACK,
    /** 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), fc00::/7, fec0::/10 */
    PRIVATE,
    /** 169.254/16, fe80::/10 */
    LINK_LOCAL,
    /** cloud instance-metadata endpoints: 169.254.169.254, 169.254.170.2, 100.100.100.200, fd00:ec2::254 */
    METADATA,
    /** 0.0.0.0, :: */
    UNSPECIFIED,
    /** 224/4, ff00::/8 */
    MULTICAST,
    /** everything else that is not routable on the internet: 0/8, 240/4, documentation, benchmarking, Teredo, ... */
    RESERVED;

    public static AddressClass of(InetAddress address) {
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            return ofIpv4(b[0] & 0xff, b[1] & 0xff, b[2] & 0xff, b[3] & 0xff);
        }
        if (address instanceof Inet6Address) {
            return ofIpv6(b);
        }
        return RESERVED;
    }

    private static AddressClass ofIpv4(int a, int b, int c, int d) {
        if (a == 0 && b == 0 && c == 0 && d == 0) {
            return UNSPECIFIED;
        }
        if ((a == 169 && b == 254 && ((c == 169 && d == 254) || (c == 170 && d == 2)))
                || (a == 100 && b == 100 && c == 100 && d == 200)) {
            return METADATA;
        }
        if (a == 127) {
            return LOOPBACK;
        }
        if (a == 169 && b == 254) {
            return LINK_LOCAL;
        }
        if (a == 10 || (a == 172 && (b & 0xf0) == 16) || (a == 192 && b == 168) || (a == 100 && (b & 0xc0) == 64)) {
            return PRIVATE;
        }
        if (a >= 224 && a <= 239) {
            return MULTICAST;
        }
        if (a == 0 || a >= 240 || (a == 192 && b == 0 && (c == 0 || c == 2)) || (a == 198 && (b & 0xfe) == 18)
                || (a == 198 && b == 51 && c == 100) || (a == 203 && b == 0 && c == 113)) {
            return RESERVED;
        }
        return PUBLIC;
    }

    private static AddressClass ofIpv6(byte[] b) {
        if (allZero(b, 0, 16)) {
            return UNSPECIFIED;
        }
        if (allZero(b, 0, 15) && b[15] == 1) {
            return LOOPBACK;
        }
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible)
        if (allZero(b, 0, 10) && ((b[10] == (byte) 0xff && b[11] == (byte) 0xff) || (b[10] == 0 && b[11] == 0))) {
            return embedded(b, 12);
        }
        int first = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
        int second = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        if (first == 0x0064 && second == 0xff9b) {
            // NAT64 well-known prefix 64:ff9b::/96 embeds the target; the local-use 64:ff9b:1::/48 is reserved
            return allZero(b, 4, 12) ? embedded(b, 12) : RESERVED;
        }
        if (first == 0x2002) {
            return embedded(b, 2); // 6to4
        }
        if (first == 0xfd00 && second == 0x0ec2 && allZero(b, 4, 14) && b[14] == 0x02 && (b[15] & 0xff) == 0x54) {
            return METADATA; // fd00:ec2::254
        }
        if ((b[0] & 0xfe) == 0xfc) {
            return PRIVATE;
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) {
            return LINK_LOCAL;
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) {
            return PRIVATE; // deprecated site-local
        }
        if ((b[0] & 0xff) == 0xff) {
            return MULTICAST;
        }
        if ((first == 0x2001 && second == 0x0000) || (first == 0x2001 && second == 0x0db8)
                || (first == 0x0100 && allZero(b, 2, 8)) || (b[0] & 0xe0) != 0x20) {
            return RESERVED; // Teredo, documentation, discard, and everything outside global unicast 2000::/3
        }
        return PUBLIC;
    }

    private static AddressClass embedded(byte[] b, int offset) {
        try {
            byte[] v4 = {b[offset], b[offset + 1], b[offset + 2], b[offset + 3]};
            return of(InetAddress.getByAddress(v4));
        } catch (UnknownHostException e) {
            return RESERVED; // cannot happen for 4 bytes
        }
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
