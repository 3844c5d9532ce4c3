package dev.txoutbox.testing;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/** What the tests' JDBC proxies share: calling the proxied object's method as if there were no proxy. */
public final class Reflection {

    private Reflection() {}

    /** Calls {@code method} on {@code target}, throwing what the method threw rather than a reflection wrapper. */
    public static Object invoke(Object target, Method method, Object[] arguments) throws Throwable {
        try {
            return method.invoke(target, arguments);
        } catch (InvocationTargetException ex) {
            throw ex.getCause();
        }
    }
}
