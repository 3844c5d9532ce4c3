package dev.txoutbox.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
 * closes every connection and refuses new ones, {@link #restore()} accepts again on the same port. It can also make
 * the server slow rather than gone: {@link #delayToServer(Duration)} holds back what clients send, without dropping
 * or reordering it.
 */
public final class TcpProxy implements AutoCloseable {

    private final int port;

    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

    private volatile int targetPort;

    private volatile long delayToServerNanos;

    private volatile ServerSocket server;

    /** Binds a free port; {@link #forwardTo(int)} then starts forwarding. */
    public TcpProxy() {
        try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            this.port = probe.getLocalPort();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** The port clients connect to. */
    public int port() {
        return this.port;
    }

    /** Starts accepting connections and forwarding them to a port on the loopback address. */
    public void forwardTo(int targetPort) {
        this.targetPort = targetPort;
        restore();
    }

    /** Accepts connections again, on the same port. */
    public synchronized void restore() {
        try {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), this.port));
            this.server = socket;
            Thread acceptor = new Thread(() -> accept(socket), "tcp-proxy-" + this.port);
            acceptor.setDaemon(true);
            acceptor.start();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * Holds back the bytes that clients send, on every connection, by this long before they reach the server, as a
     * broker that takes its time; zero forwards them at once again. Bytes read before a change keep the delay they
     * were read with, and bytes never overtake earlier ones of their connection.
     */
    public void delayToServer(Duration delay) {
        this.delayToServerNanos = delay.toNanos();
    }

    /** Closes every connection and refuses new ones until {@link #restore()}. */
    public synchronized void cut() {
        closeQuietly(this.server);
        this.sockets.forEach(TcpProxy::closeQuietly);
        this.sockets.clear();
    }

    private void accept(ServerSocket socket) {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), this.targetPort);
                this.sockets.add(client);
                this.sockets.add(upstream);
                delayedPipe(client, upstream);
                pipe(upstream, client);
            } catch (IOException ex) {
                // Closed by cut(), or the server refused: the client sees its connection fail.
            }
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
    }
}
