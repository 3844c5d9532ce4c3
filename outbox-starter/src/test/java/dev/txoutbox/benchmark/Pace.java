package dev.txoutbox.benchmark;

/** How fast a ceiling (K or D) went, and the whole machine's CPU time per event or row meanwhile, in microseconds. */
record Pace(double perSecond, double cpuMicros) {}
