package io.dermcap.it.servers;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on 127.0.0.1 in front of one server that can be <em>black-holed</em>: it stops
 * forwarding bytes in both directions without closing any connection (and accepts new ones
 * without connecting them), as a switch or a hung host would; {@link #resume()} forwards what
 * waited. Unlike a stopped server, nobody gets a connection reset: clients learn of the fault
 * only through their own timeouts.
 */
public final class BlackHoleProxy implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private boolean blackHoled;
    private volatile boolean closed;

    public BlackHoleProxy(int port, InetSocketAddress target) throws IOException {
        this.server = new ServerSocket(port, 50, InetAddress.getByName("127.0.0.1"));
        this.target = target;
        Thread acceptor = new Thread(this::accept, "proxy-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Stops forwarding; every connection stays open. */
    public void blackHole() {
        synchronized (gate) {
            blackHoled = true;
        }
    }

    public void resume() {
        synchronized (gate) {
            blackHoled = false;
            gate.notifyAll();
        }
    }

    private void awaitOpen() throws InterruptedException {
        synchronized (gate) {
            while (blackHoled && !closed) {
                gate.wait();
            }
        }
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                Thread t = new Thread(() -> connect(client), "proxy-conn-" + port());
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("[proxy " + port() + "] accept failed: " + e);
                }
            }
        }
    }

    private void connect(Socket client) {
        Socket upstream = new Socket();
        sockets.add(upstream);
        try {
            awaitOpen();
            upstream.connect(target, 5000);
        } catch (IOException | InterruptedException e) {
            closeBoth(client, upstream); // the server is down: the client sees a closed connection, as without a proxy
            return;
        }
        Thread back = new Thread(() -> pump(upstream, client), "proxy-back-" + port());
        back.setDaemon(true);
        back.start();
        pump(client, upstream);
    }

    /** Copies {@code from} to {@code to}; a chunk read while black-holed waits until forwarding resumes. */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                awaitOpen();
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // either side closed
        } finally {
            closeBoth(from, to);
        }
    }

    private void closeBoth(Socket a, Socket b) {
        for (Socket s : List.of(a, b)) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already closed
            }
            sockets.remove(s);
        }
    }

    @Override
    public void close() {
        closed = true;
        resume();
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
