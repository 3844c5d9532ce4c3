package dev.txoutbox.sample.order;

import jakarta.validation.Valid;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriComponentsBuilder;

/** The order service's REST API: {@code /orders}. */
@RestController
@RequestMapping("/orders")
class OrderController {

    private final OrderService service;

    OrderController(OrderService service) {
        this.service = service;
    }

    @PostMapping
    ResponseEntity<OrderSnapshot> place(@Valid @RequestBody PlaceOrder command, UriComponentsBuilder uri) {
        OrderSnapshot placed = this.service.placeOrder(command);
        return ResponseEntity.created(uri.path("/orders/{id}").build(placed.id()))
                .body(placed);
    }

    @GetMapping("/{id}")
    OrderSnapshot get(@PathVariable long id) {
        return this.service.getOrder(id);
    }

    @PutMapping("/{id}")
    OrderSnapshot change(@PathVariable long id, @Valid @RequestBody ChangeOrder change) {
        return this.service.changeOrder(id, change);
    }

    @DeleteMapping("/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(@PathVariable long id) {
        this.service.deleteOrder(id);
    }
}
