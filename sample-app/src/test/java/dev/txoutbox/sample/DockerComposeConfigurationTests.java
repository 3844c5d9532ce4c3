package dev.txoutbox.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.ClassPathResource;
import org.yaml.snakeyaml.Yaml;

/**
 * Spring Boot's Docker Compose support, as the sample configures it, starts the servers of the repository's
 * docker-compose.yml that each profile connects to, and stops them again: the file it names is that one, and the
 * services it starts and stops are among that file's services.
 */
class DockerComposeConfigurationTests {

    @ParameterizedTest
    @CsvSource({"default, postgres kafka", "mariadb, mariadb kafka"})
    void eachProfileStartsAndStopsItsDatabaseAndKafkaFromTheRepositorysComposeFile(String profile, String services)
            throws IOException {
        Binder binder = binder(profile);

        Path file =
                Path.of(binder.bind("spring.docker.compose.file", String.class).get());
        List<String> started = binder.bind("spring.docker.compose.start.arguments", Bindable.listOf(String.class))
                .get();
        List<String> stopped = binder.bind("spring.docker.compose.stop.arguments", Bindable.listOf(String.class))
                .get();

        // The tests run in the sample's module directory, where spring-boot:run starts the application too.
        assertThat(file).isRegularFile();
        assertThat(file.toRealPath())
                .isEqualTo(Path.of("..", "docker-compose.yml").toRealPath());
        assertThat(started).containsExactly(services.split(" "));
        assertThat(stopped).isEqualTo(started);
        assertThat(composeServices(file)).containsAll(started);
    }

    private static Binder binder(String profile) throws IOException {
        StandardEnvironment environment = new StandardEnvironment();
        YamlPropertySourceLoader loader = new YamlPropertySourceLoader();
        // A profile's file wins over application.yml, as in the application.
        List<String> files = profile.equals("default")
                ? List.of("application.yml")
                : List.of("application-" + profile + ".yml", "application.yml");
        for (String name : files) {
            loader.load(name, new ClassPathResource(name))
                    .forEach(source -> environment.getPropertySources().addLast(source));
        }
        return Binder.get(environment);
    }

    @SuppressWarnings("unchecked")
    private static List<String> composeServices(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            Map<String, Object> compose = new Yaml().load(in);
            return List.copyOf(((Map<String, Object>) compose.get("services")).keySet());
        }
    }
}
