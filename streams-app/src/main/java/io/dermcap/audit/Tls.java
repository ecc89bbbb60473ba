package io.dermcap.audit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The endpoint's TLS context: its key store serves the certificate, and the certificates in that
 * key store are trusted (besides the JDK's CAs) when this instance calls another one, so instances
 * that share a certificate, or a private CA's chain, reach each other without another setting.
 */
final class Tls {

    private Tls() {
    }

    static SSLContext context(AuditOptions.KeyStoreFile file) {
        try (InputStream in = Files.newInputStream(file.location())) {
            char[] password = file.password() == null ? null : file.password().toCharArray();
            KeyStore ks = KeyStore.getInstance(file.type());
            ks.load(in, password);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            KeyStore own = KeyStore.getInstance(KeyStore.getDefaultType());
            own.load(null, null);
            for (String alias : Collections.list(ks.aliases())) {
                java.security.cert.Certificate[] chain = ks.getCertificateChain(alias);
                if (chain == null && ks.getCertificate(alias) != null) {
                    chain = new java.security.cert.Certificate[] {ks.getCertificate(alias)};
                }
                for (int i = 0; chain != null && i < chain.length; i++) {
                    own.setCertificateEntry(alias + "-" + i, chain[i]);
                }
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), new TrustManager[] {either(trust(own), trust(null))}, null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot load the audit key store " + file.location() + ": "
                    + e.getClass().getSimpleName(), e);
        }
    }

    private static X509TrustManager trust(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        for (TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X509 trust manager");
    }

    /** Trusts a server that either manager trusts. */
    private static X509TrustManager either(X509TrustManager a, X509TrustManager b) {
        return new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("client certificates are not used");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                try {
                    a.checkServerTrusted(chain, authType);
                } catch (CertificateException e) {
                    b.checkServerTrusted(chain, authType);
                }
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                List<X509Certificate> all = new ArrayList<>(List.of(a.getAcceptedIssuers()));
                all.addAll(List.of(b.getAcceptedIssuers()));
                return all.toArray(new X509Certificate[0]);
            }
        };
    }
}
