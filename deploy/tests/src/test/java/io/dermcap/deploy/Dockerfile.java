package io.dermcap.deploy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A Dockerfile read line-wise into instructions and build stages: enough to check what an image
 * copies, runs and exposes without a Docker engine. Continuation lines are joined, comments and
 * parser directives skipped; heredocs are not used in deploy/ and not supported.
 */
record Dockerfile(Path file, List<Stage> stages) {

    record Instruction(String keyword, String arguments, int line) {

        /** The words of a shell-form instruction, or the options before an exec-form array. */
        List<String> words() {
            return List.of(arguments.trim().split("\\s+"));
        }

        /** The exec form ({@code ["java", "-jar", ...]}) as a list; fails for the shell form. */
        List<String> execForm() {
            String json = arguments.substring(arguments.indexOf('['));
            try {
                return new ObjectMapper().readValue(json, new TypeReference<List<String>>() { });
            } catch (IOException e) {
                throw new AssertionError("line " + line + ": " + keyword + " is not in exec form: " + arguments, e);
            }
        }

        /** The value of an option like {@code --from=build}, if given. */
        Optional<String> option(String name) {
            return words().stream().filter(w -> w.startsWith("--" + name + "=")).map(w -> w.substring(name.length() + 3))
                    .findFirst();
        }

        /** The words that are not {@code --options}. */
        List<String> operands() {
            return words().stream().filter(w -> !w.startsWith("--")).toList();
        }
    }

    /** One FROM and the instructions up to the next. */
    record Stage(String base, String name, List<Instruction> instructions) {

        List<Instruction> all(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
        }

        Instruction only(String keyword) {
            List<Instruction> found = all(keyword);
            if (found.size() != 1) {
                throw new AssertionError("stage " + name + " has " + found.size() + " " + keyword + " instructions, expected 1");
            }
            return found.get(0);
        }
    }

    static Dockerfile parse(Path file) {
        List<Stage> stages = new ArrayList<>();
        List<Instruction> current = null;
        String base = null;
        String name = null;
        String[] lines = DeployFiles.read(file).split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int first = i + 1;
            StringBuilder joined = new StringBuilder();
            while (line.endsWith("\\")) {
                joined.append(line, 0, line.length() - 1).append(' ');
                do {
                    i++;
                    line = lines[i].strip();
                } while (line.startsWith("#"));
            }
            joined.append(line);
            String text = joined.toString().strip();
            int space = text.indexOf(' ');
            String keyword = (space < 0 ? text : text.substring(0, space)).toUpperCase(Locale.ROOT);
            String arguments = space < 0 ? "" : text.substring(space + 1).strip();
            Instruction instruction = new Instruction(keyword, arguments, first);
            if (keyword.equals("FROM")) {
                if (current != null) {
                    stages.add(new Stage(base, name, current));
                }
                List<String> words = instruction.operands();
                base = words.get(0);
                name = words.size() >= 3 && words.get(1).equalsIgnoreCase("AS") ? words.get(2) : "stage" + stages.size();
                current = new ArrayList<>();
            } else if (current == null) {
                if (!keyword.equals("ARG")) {
                    throw new AssertionError(file + " line " + first + ": " + keyword + " before the first FROM");
                }
            } else {
                current.add(instruction);
            }
        }
        if (current == null) {
            throw new AssertionError(file + " has no FROM");
        }
        stages.add(new Stage(base, name, current));
        return new Dockerfile(file, List.copyOf(stages));
    }

    /** The stage the image is made of: the last one. */
    Stage runtime() {
        return stages.get(stages.size() - 1);
    }

    Optional<Stage> stage(String name) {
        return stages.stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
