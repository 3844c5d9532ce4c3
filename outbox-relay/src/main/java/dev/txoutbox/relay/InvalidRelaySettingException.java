package dev.txoutbox.relay;

import org.jspecify.annotations.Nullable;

/**
 * A {@link RelaySettings} component has a value the relay cannot run with, such as a batch size of 0. The message
 * names the component, its value and what it must be; an application that binds the settings from its own
 * configuration can map {@link #setting()} to the name the user wrote.
 */
public final class InvalidRelaySettingException extends IllegalArgumentException {

    private final String setting;

    private final @Nullable Object value;

    private final String reason;

    /**
     * @param setting the name of the {@link RelaySettings} component, such as {@code batchSize}
     * @param value its invalid value
     * @param reason what it must be, such as "it must be between 1 and 10000"
     */
    public InvalidRelaySettingException(String setting, @Nullable Object value, String reason) {
        super("Invalid RelaySettings.%s=%s: %s.".formatted(setting, value, reason));
        this.setting = setting;
        this.value = value;
        this.reason = reason;
    }

    /** The name of the {@link RelaySettings} component at fault, such as {@code batchSize}. */
    public String setting() {
        return this.setting;
    }

    /** The component's invalid value. */
    public @Nullable Object value() {
        return this.value;
    }

    /** What the value must be, such as "it must be between 1 and 10000". */
    public String reason() {
        return this.reason;
    }
}
