package dev.txoutbox.internal;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** JDBC URLs fit to be shown: in logs, in exception messages, and in a suggested setting. */
public final class JdbcUrls {

    private static final Pattern CREDENTIALS = Pattern.compile("(?i)([?&;](password|sslpassword|sslkey)=)[^&;]*");

    private static final Pattern CREDENTIALS_ELIDED = Pattern.compile("(?i)[?&;](password|sslpassword|sslkey)=[^&;]*");

    private static final Pattern USER_INFO = Pattern.compile("//[^/@?]*@");

    private JdbcUrls() {}

    /** The JDBC URL with its password and key parameters left out, to be pasted back with a parameter added. */
    public static String withoutPasswordParameters(String url) {
        String elided = CREDENTIALS_ELIDED
                .matcher(url)
                .replaceAll(match -> match.group().startsWith("?") ? "?" : "");
        return elided.replace("?&", "?").replaceAll("\\?$", "");
    }

    /** The JDBC URL without a password or key in its parameters, nor user information before its host. */
    public static String withoutCredentials(@Nullable String url) {
        if (url == null) {
            return "";
        }
        return USER_INFO.matcher(CREDENTIALS.matcher(url).replaceAll("$1***")).replaceAll("//***@");
    }
}
