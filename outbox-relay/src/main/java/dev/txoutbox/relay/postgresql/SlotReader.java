package dev.txoutbox.relay.postgresql;

import dev.txoutbox.internal.DaemonThreads;
import dev.txoutbox.relay.CommitLog;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a replication slot's stream in a thread of its own, and hands the committed transactions to the relay's thread
 * through a bounded queue (see {@link ReplicationSlotLog}). The relay's confirmations go to the server at the stream's
 * status interval; when the reader has nothing in hand, it confirms what it received, so that an idle outbox does not
 * hold the server's WAL.
 */
final class SlotReader implements CommitLog.Reader {

    private static final Logger log = LoggerFactory.getLogger(ReplicationSlotLog.class);

    /** How many committed transactions a reader keeps before the relay takes them. */
    private static final int QUEUED_COMMITS = 4_096;

    /** How long a reader waits before it looks at the stream again, right after a message. */
    private static final long MIN_IDLE_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(250);

    /** The longest a reader waits between looks at an idle stream. */
    private static final long MAX_IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final String slot;

    private final Connection connection;

    private final PGReplicationStream stream;

    private final PgOutputDecoder decoder;

    private final BlockingQueue<CommitLog.Commit> commits = new LinkedBlockingQueue<>(QUEUED_COMMITS);

    private final Thread receiver;

    private final boolean fresh;

    private volatile boolean closed;

    private volatile @Nullable Throwable failure;

    /** The position the relay confirmed last. */
    private volatile long confirmed;

    /** The position of the last transaction handed to the relay. */
    private volatile long handedOver;

    /** The highest position reported to the server; only the receiver's thread, then close(), touch it. */
    private long reported;

    SlotReader(String slot, Connection connection, PGReplicationStream stream, PgOutputDecoder decoder, boolean fresh) {
        this.slot = slot;
        this.fresh = fresh;
        this.connection = connection;
        this.stream = stream;
        this.decoder = decoder;
        this.receiver = DaemonThreads.start("outbox-log-" + this.slot, this::receive);
    }

    private void receive() {
        long lastForced = System.nanoTime();
        long idleWait = MIN_IDLE_WAIT_NANOS;
        try {
            while (!this.closed) {
                long done = this.confirmed;
                if (done > this.reported) {
                    // The stream sends it at its status interval.
                    report(done);
                }
                ByteBuffer message = this.stream.readPending();
                if (message != null) {
                    idleWait = MIN_IDLE_WAIT_NANOS;
                    CommitLog.Commit commit = this.decoder.accept(message);
                    if (commit != null && commit.ids().length > 0) {
                        handOver(commit);
                    } else if (commit != null && idle()) {
                        // A transaction of other tables, with nothing of the table's in hand: done with it.
                        report(commit.position());
                    }
                    continue;
                }
                if (idle()) {
                    // Everything received is done with: the server may drop the WAL up to what it sent last,
                    // also WAL of other tables, so that an idle outbox does not hold it.
                    long received = this.stream.getLastReceiveLSN().asLong();
                    if (received > this.reported
                            && System.nanoTime() - lastForced > TimeUnit.MILLISECONDS.toNanos(200)) {
                        report(received);
                        this.stream.forceUpdateStatus();
                        lastForced = System.nanoTime();
                    }
                }
                // An empty look at the stream costs a short blocking read: look less often the longer it is idle.
                LockSupport.parkNanos(idleWait);
                idleWait = Math.min(idleWait * 2, MAX_IDLE_WAIT_NANOS);
            }
        } catch (Throwable ex) {
            if (!this.closed) {
                this.failure = ex;
            }
        }
    }

    /** Whether every transaction received was handed over and confirmed, and none is half received. */
    private boolean idle() {
        return this.commits.isEmpty() && !this.decoder.inTransaction() && this.confirmed >= this.handedOver;
    }

    private void handOver(CommitLog.Commit commit) throws SQLException, InterruptedException {
        while (!this.commits.offer(commit, 100, TimeUnit.MILLISECONDS)) {
            if (this.closed) {
                return;
            }
            // The relay is behind: the stream waits, and the server keeps hearing that this reader is alive.
            report(this.confirmed);
            this.stream.forceUpdateStatus();
        }
        this.handedOver = commit.position();
    }

    /** Tells the stream a position to report, never one below what it reported already. */
    private void report(long position) {
        if (position > this.reported) {
            LogSequenceNumber lsn = LogSequenceNumber.valueOf(position);
            this.stream.setAppliedLSN(lsn);
            this.stream.setFlushedLSN(lsn);
            this.reported = position;
        }
    }

    @Override
    public CommitLog.@Nullable Commit poll(Duration timeout) throws Exception {
        CommitLog.Commit commit = this.commits.poll();
        if (commit == null && !timeout.isZero()) {
            commit = this.commits.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
        Throwable failed = this.failure;
        if (commit == null && failed != null) {
            if (failed instanceof Exception exception) {
                throw exception;
            }
            throw (Error) failed;
        }
        return commit;
    }

    @Override
    public boolean fresh() {
        return this.fresh;
    }

    @Override
    public void confirm(long position) {
        if (position > this.confirmed) {
            this.confirmed = position;
        }
    }

    @Override
    public void close() {
        this.closed = true;
        DaemonThreads.awaitEnd(List.of(this.receiver), System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
        try {
            // Tells the server the last position, so that a reader taking over starts right after it.
            report(this.confirmed);
            this.stream.forceUpdateStatus();
            this.stream.close();
        } catch (SQLException | RuntimeException ex) {
            log.debug("Could not close the replication stream of slot '{}'", this.slot, ex);
        }
        ReplicationSlotLog.closeQuietly(this.connection);
    }
}
