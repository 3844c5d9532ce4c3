package dev.txoutbox.testing;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;

/** A connection whose commits roll back: what it sends in a transaction, a notification say, never takes effect. */
public final class RollingBackConnection {

    private RollingBackConnection() {}

    /** The connection, taken out of autocommit, with {@code commit()} rolling back instead. */
    public static Connection of(Connection connection) throws SQLException {
        connection.setAutoCommit(false);
        return (Connection) Proxy.newProxyInstance(
                Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, (proxy, method, arguments) -> {
                    try {
                        if (method.getName().equals("commit")) {
                            connection.rollback();
                            return null;
                        }
                        return method.invoke(connection, arguments);
                    } catch (InvocationTargetException ex) {
                        throw ex.getCause();
                    }
                });
    }
}
