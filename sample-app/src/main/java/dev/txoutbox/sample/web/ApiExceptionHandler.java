package dev.txoutbox.sample.web;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.TypeMismatchException;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.util.ClassUtils;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.exc.InvalidFormatException;

/**
 * Answers every error with an RFC 9457 problem detail ({@code application/problem+json}). Spring's defaults say only
 * "Invalid request content" for a bad request body; here the detail names each field and what is wrong with it, and
 * an {@code errors} property holds the same by field, for clients. A path variable or request parameter of the wrong
 * type is named the same way.
 */
@RestControllerAdvice
class ApiExceptionHandler extends ResponseEntityExceptionHandler {

    @Override
    protected @Nullable ResponseEntity<Object> handleMethodArgumentNotValid(
            MethodArgumentNotValidException ex, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        Map<String, String> errors = new TreeMap<>();
        for (ObjectError error : ex.getBindingResult().getAllErrors()) {
            String name = (error instanceof FieldError field) ? field.getField() : error.getObjectName();
            errors.merge(name, String.valueOf(error.getDefaultMessage()), (first, second) -> first + ", " + second);
        }
        ProblemDetail problem = ex.getBody();
        problem.setDetail(describe(errors));
        problem.setProperty("errors", errors);
        return handleExceptionInternal(ex, problem, headers, status, request);
    }

    @Override
    protected @Nullable ResponseEntity<Object> handleHttpMessageNotReadable(
            HttpMessageNotReadableException ex, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, unreadable(ex));
        return handleExceptionInternal(ex, problem, headers, status, request);
    }

    @Override
    protected @Nullable ResponseEntity<Object> handleTypeMismatch(
            TypeMismatchException ex, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, mismatch(ex));
        return handleExceptionInternal(ex, problem, headers, status, request);
    }

    @ExceptionHandler
    ProblemDetail concurrentChange(OptimisticLockingFailureException ex) {
        return ProblemDetail.forStatusAndDetail(
                HttpStatus.CONFLICT, "The order was changed by another request at the same time; read it and retry");
    }

    private static String describe(Map<String, String> errors) {
        return errors.entrySet().stream()
                .map(error -> error.getKey() + ": " + error.getValue())
                .collect(Collectors.joining("; "));
    }

    // Jackson's own messages name Java classes; a client needs the field and the values it may send.
    private static String unreadable(HttpMessageNotReadableException ex) {
        if (ex.getCause() instanceof InvalidFormatException invalid && invalid.getTargetType() != null) {
            Class<?> type = invalid.getTargetType();
            String expected = type.isEnum()
                    ? "one of "
                            + Arrays.stream(type.getEnumConstants())
                                    .map(String::valueOf)
                                    .collect(Collectors.joining(", "))
                    : "a valid " + type.getSimpleName();
            return field(invalid) + ": \"" + invalid.getValue() + "\" is not " + expected;
        }
        if (ex.getCause() instanceof JacksonException jackson
                && !jackson.getPath().isEmpty()) {
            return field(jackson) + ": " + jackson.getOriginalMessage();
        }
        return "The request body is not valid JSON for this request";
    }

    // A path variable or request parameter that is not of its type: /orders/abc, /demo/burst?orders=many.
    private static String mismatch(TypeMismatchException ex) {
        Class<?> type = ex.getRequiredType();
        String expected = (type != null)
                ? "a valid " + ClassUtils.resolvePrimitiveIfNecessary(type).getSimpleName()
                : "of the expected type";
        return ex.getPropertyName() + ": \"" + ex.getValue() + "\" is not " + expected;
    }

    private static String field(JacksonException ex) {
        return ex.getPath().stream()
                .map(reference -> (reference.getPropertyName() != null)
                        ? reference.getPropertyName()
                        : String.valueOf(reference.getIndex()))
                .collect(Collectors.joining("."));
    }
}
