package dev.txoutbox.sample.order;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;

/** No order has the requested id; answered with 404 and a problem detail. */
public class OrderNotFoundException extends ErrorResponseException {

    public OrderNotFoundException(long id) {
        super(
                HttpStatus.NOT_FOUND,
                ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, "No order has id " + id),
                null);
    }
}
