package dev.txoutbox.sample.readmodel;

import jakarta.persistence.LockModeType;
import java.util.Optional;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;

interface OrderViewRepository extends JpaRepository<OrderView, Long> {

    /** Reads a view and locks its row until the transaction ends. */
    @Lock(LockModeType.PESSIMISTIC_WRITE)
    Optional<OrderView> findForUpdateById(long id);
}
