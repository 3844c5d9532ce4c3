package dev.txoutbox.benchmark;

import org.springframework.data.jpa.repository.JpaRepository;

interface BenchmarkOrders extends JpaRepository<BenchmarkOrder, Long> {}
