package dev.txoutbox.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy on a loopback port of its own, to cut a client off from a server and connect it again: {@link #cut()}
 * closes every connection and closes each new one at once, {@link #restore()} forwards again. The port stays bound
 * from construction to {@link #close()}, so that nothing else (the broker behind the proxy, which binds ports of its
 * own, or another test's process) can take it in between. It can also make the server slow rather than gone:
 * {@link #delayToServer(Duration)} holds back what clients send, without dropping or reordering it.
 */
public final class TcpProxy implements AutoCloseable {

    private final ServerSocket server;

    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

    private volatile int targetPort;

    private volatile boolean forwarding;

    private volatile long delayToServerNanos;

    /** Binds a free port; {@link #forwardTo(int)} then starts forwarding. */
    public TcpProxy() {
        try {
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        Thread acceptor = new Thread(this::accept, "tcp-proxy-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The port clients connect to. */
    public int port() {
        return this.server.getLocalPort();
    }

    /** Starts forwarding connections to a port on the loopback address. */
    public void forwardTo(int targetPort) {
        this.targetPort = targetPort;
        restore();
    }

    /** Forwards new connections again. */
    public void restore() {
        this.forwarding = true;
    }

    /**
     * Holds back the bytes that clients send, on every connection, by this long before they reach the server, as a
     * broker that takes its time; zero forwards them at once again. Bytes read before a change keep the delay they
     * were read with, and bytes never overtake earlier ones of their connection.
     */
    public void delayToServer(Duration delay) {
        this.delayToServerNanos = delay.toNanos();
    }

    /** Closes every connection, and each new one as soon as it is accepted, until {@link #restore()}. */
    public synchronized void cut() {
        this.forwarding = false;
        this.sockets.forEach(TcpProxy::closeQuietly);
        this.sockets.clear();
    }

    private void accept() {
        while (!this.server.isClosed()) {
            Socket client;
            try {
                client = this.server.accept();
            } catch (IOException ex) {
                // Closed by close(), which ends the loop; anything else (out of file descriptors, say) is tried again
                // a moment later rather than in a busy loop.
                pause();
                continue;
            }
            synchronized (this) {
                if (!this.forwarding) {
                    // Cut off: the client sees its connection end before any reply, as from a broker that went away.
                    closeQuietly(client);
                    continue;
                }
                try {
                    Socket upstream = new Socket(InetAddress.getLoopbackAddress(), this.targetPort);
                    this.sockets.add(client);
                    this.sockets.add(upstream);
                    delayedPipe(client, upstream);
                    pipe(upstream, client);
                } catch (IOException ex) {
                    // The server refused: the client sees its connection end.
                    closeQuietly(client);
                }
            }
        }
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(10);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    private void pipe(Socket from, Socket to) {
        Thread thread = new Thread(
                () -> {
                    byte[] buffer = new byte[16 * 1024];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        int read;
                        while ((read = in.read(buffer)) >= 0) {
                            out.write(buffer, 0, read);
                            out.flush();
                        }
                    } catch (IOException ex) {
                        // The other side went away.
                    } finally {
                        closeQuietly(from);
                        closeQuietly(to);
                    }
                },
                "tcp-proxy-pipe");
        thread.setDaemon(true);
        thread.start();
    }

    /** A pipe whose bytes wait for the delay to server that held when they were read. */
    private void delayedPipe(Socket from, Socket to) {
        BlockingQueue<Chunk> chunks = new LinkedBlockingQueue<>();
        Thread reader = new Thread(
                () -> {
                    byte[] buffer = new byte[16 * 1024];
                    try (InputStream in = from.getInputStream()) {
                        int read;
                        while ((read = in.read(buffer)) >= 0) {
                            // One queue per connection and direction, written in order: bytes never overtake.
                            chunks.add(new Chunk(
                                    Arrays.copyOf(buffer, read), System.nanoTime() + this.delayToServerNanos));
                        }
                    } catch (IOException ex) {
                        // The other side went away.
                    } finally {
                        chunks.add(Chunk.END);
                    }
                },
                "tcp-proxy-read");
        Thread writer = new Thread(
                () -> {
                    try (OutputStream out = to.getOutputStream()) {
                        while (true) {
                            Chunk chunk = chunks.take();
                            if (chunk == Chunk.END) {
                                break;
                            }
                            long wait = chunk.releaseNanos() - System.nanoTime();
                            if (wait > 0) {
                                // Holding bytes back is this proxy's job; no test waits on it.
                                TimeUnit.NANOSECONDS.sleep(wait);
                            }
                            out.write(chunk.bytes());
                            out.flush();
                        }
                    } catch (IOException | InterruptedException ex) {
                        // The other side went away.
                    } finally {
                        closeQuietly(from);
                        closeQuietly(to);
                    }
                },
                "tcp-proxy-write");
        reader.setDaemon(true);
        writer.setDaemon(true);
        reader.start();
        writer.start();
    }

    /** Bytes read from one side, and when they may go to the other. */
    private record Chunk(byte[] bytes, long releaseNanos) {

        static final Chunk END = new Chunk(new byte[0], 0);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // Closing is all we wanted.
            }
        }
    }

    @Override
    public void close() {
        cut();
        closeQuietly(this.server);
    }
}
