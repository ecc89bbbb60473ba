package io.dermcap.storage;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Set;

import io.dermcap.storage.FetchException.Reason;

/**
 * Resolves an allow-listed host name and refuses it if ANY of its addresses is of a class the
 * operator did not allow (a name that resolves to a public and a private address is refused: an
 * attacker controlling the zone could make the connection use either). The fetcher then connects
 * to exactly these checked addresses, never resolving the name again, so DNS rebinding between
 * check and connect cannot redirect it.
 */
final class AddressPolicy {

    /** Name resolution; the JDK's by default, scripted in tests. */
    interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private final Set<AddressClass> allowed;
    private final Resolver resolver;

    AddressPolicy(Set<AddressClass> allowed, Resolver resolver) {
        this.allowed = allowed;
        this.resolver = resolver;
    }

    /**
     * @throws FetchException URI_NOT_ALLOWED for a forbidden address
     * @throws UnknownHostException when the name does not resolve (possibly transient)
     */
    List<InetAddress> check(ObjectLocation.Http location) throws FetchException, UnknownHostException {
        if (location.literal() != null) {
            return List.of(location.literal()); // classified by the UriPolicy already
        }
        InetAddress[] addresses = resolver.resolve(location.host());
        if (addresses.length == 0) {
            throw new UnknownHostException(location.host());
        }
        for (InetAddress address : addresses) {
            AddressClass kind = AddressClass.of(address);
            if (!allowed.contains(kind)) {
                throw new FetchException(Reason.URI_NOT_ALLOWED, false, 0, "host '" + location.host()
                        + "' resolves to " + address.getHostAddress() + ", a " + kind + " address, which is not allowed", null);
            }
        }
        return List.of(addresses);
    }
}
