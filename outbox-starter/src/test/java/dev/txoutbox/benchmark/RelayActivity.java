package dev.txoutbox.benchmark;

/**
 * What the relays' cycles did, counted by {@link BenchmarkApplication}: cycles that published something, empty
 * ones, and the events published.
 */
record RelayActivity(long cycles, long empty, long published) {

    static final RelayActivity NONE = new RelayActivity(0, 0, 0);

    static RelayActivity now() {
        return new RelayActivity(
                BenchmarkApplication.cycles.sum(),
                BenchmarkApplication.emptyCycles.sum(),
                BenchmarkApplication.published.sum());
    }

    RelayActivity since(RelayActivity before) {
        return new RelayActivity(
                this.cycles - before.cycles, this.empty - before.empty, this.published - before.published);
    }

    RelayActivity plus(RelayActivity other) {
        return new RelayActivity(
                this.cycles + other.cycles, this.empty + other.empty, this.published + other.published);
    }

    double meanBatch() {
        return this.cycles == 0 ? 0 : this.published / (double) this.cycles;
    }
}
