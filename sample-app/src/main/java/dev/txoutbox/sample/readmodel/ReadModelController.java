package dev.txoutbox.sample.readmodel;

import java.util.List;
import org.springframework.data.domain.Sort;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Shows the read model: {@code /read-model/orders}. It lags the order API by the time the relay and the consumer
 * take, usually milliseconds; that gap is what eventual consistency means here.
 */
@RestController
@RequestMapping("/read-model/orders")
class ReadModelController {

    private final OrderViewRepository views;

    ReadModelController(OrderViewRepository views) {
        this.views = views;
    }

    @GetMapping
    List<OrderViewResponse> all() {
        return this.views.findAll(Sort.by("id")).stream()
                .map(OrderView::toResponse)
                .toList();
    }

    @GetMapping("/{id}")
    OrderViewResponse one(@PathVariable long id) {
        return this.views
                .findById(id)
                .map(OrderView::toResponse)
                .orElseThrow(() -> new ErrorResponseException(
                        HttpStatus.NOT_FOUND,
                        ProblemDetail.forStatusAndDetail(
                                HttpStatus.NOT_FOUND, "The read model holds no order " + id + " (or not yet)"),
                        null));
    }
}
