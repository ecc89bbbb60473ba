package io.dermcap.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static io.dermcap.deploy.DeployFiles.list;
import static io.dermcap.deploy.DeployFiles.map;
import static io.dermcap.deploy.DeployFiles.maps;
import static io.dermcap.deploy.DeployFiles.text;

/**
 * Renders a kustomization the way {@code kubectl kustomize} does, for the subset deploy/k8s uses:
 * resources (files and folders), patches (strategic merge, or JSON 6902 with a target) and image
 * tags. Anything else in a kustomization fails the test instead of being ignored. The output
 * of deploy/k8s was compared with kubectl's (see docs/deployment.md, "What the tests check").
 */
final class Kustomize {

    private static final Set<String> SUPPORTED = Set.of("apiVersion", "kind", "resources", "patches", "images");

    /** Kubernetes' patch merge keys for the lists deploy/k8s patches; other lists are replaced. */
    private static final Map<String, String> MERGE_KEYS = Map.of(
            "containers", "name",
            "initContainers", "name",
            "volumes", "name",
            "env", "name",
            "volumeMounts", "mountPath",
            "ports", "containerPort");

    private Kustomize() {
    }

    static List<Map<String, Object>> build(Path dir) {
        Map<String, Object> k = map(DeployFiles.yaml(dir.resolve("kustomization.yaml")));
        for (String field : k.keySet()) {
            if (!SUPPORTED.contains(field)) {
                throw new AssertionError(dir + "/kustomization.yaml uses '" + field + "', which these tests cannot render");
            }
        }
        List<Map<String, Object>> resources = new ArrayList<>();
        for (Object r : list(k, "resources")) {
            Path p = dir.resolve(r.toString()).normalize();
            if (Files.isDirectory(p)) {
                resources.addAll(build(p));
            } else if (Files.isRegularFile(p)) {
                resources.addAll(DeployFiles.yamlDocuments(p));
            } else {
                throw new AssertionError(dir + "/kustomization.yaml lists a missing resource: " + r);
            }
        }
        if (k.containsKey("patches")) {
            for (Map<String, Object> patch : maps(list(k, "patches"))) {
                applyPatch(dir, patch, resources);
            }
        }
        if (k.containsKey("images")) {
            for (Map<String, Object> image : maps(list(k, "images"))) {
                setImage(resources, text(image, "name"), (String) image.get("newName"), text(image, "newTag"));
            }
        }
        return resources;
    }

    /** The one rendered resource of this kind and name. */
    static Map<String, Object> resource(List<Map<String, Object>> resources, String kind, String name) {
        List<Map<String, Object>> found = resources.stream()
                .filter(r -> kind.equals(r.get("kind")) && name.equals(DeployFiles.find(r, "metadata", "name"))).toList();
        if (found.size() != 1) {
            throw new AssertionError(found.size() + " resources of kind " + kind + " named " + name + ", expected 1");
        }
        return found.get(0);
    }

    static List<Map<String, Object>> ofKind(List<Map<String, Object>> resources, String kind) {
        return resources.stream().filter(r -> kind.equals(r.get("kind"))).toList();
    }

    private static void applyPatch(Path dir, Map<String, Object> entry, List<Map<String, Object>> resources) {
        Path file = dir.resolve(text(entry, "path"));
        Object patch = DeployFiles.yaml(file);
        if (entry.containsKey("target")) {
            Map<String, Object> target = map(entry, "target");
            Map<String, Object> resource = resource(resources, text(target, "kind"), text(target, "name"));
            if (!(patch instanceof List<?> ops)) {
                throw new AssertionError(file + ": a patch with a target must be a JSON 6902 list of operations here");
            }
            for (Object op : ops) {
                jsonPatch(resource, map(op));
            }
        } else {
            Map<String, Object> p = map(patch);
            Map<String, Object> resource = resource(resources, text(p, "kind"), text(p, "metadata", "name"));
            resources.set(resources.indexOf(resource), map(strategicMerge(resource, p, "")));
        }
    }

    /** Strategic merge: maps merge key by key, lists with a merge key merge element-wise, the rest is replaced. */
    static Object strategicMerge(Object base, Object patch, String field) {
        if (base instanceof Map<?, ?> b && patch instanceof Map<?, ?> p) {
            Map<String, Object> out = new LinkedHashMap<>();
            b.forEach((key, value) -> out.put(key.toString(), value));
            p.forEach((key, value) -> {
                if (value == null) {
                    out.remove(key.toString());
                } else {
                    out.put(key.toString(), strategicMerge(b.get(key), value, key.toString()));
                }
            });
            return out;
        }
        String mergeKey = MERGE_KEYS.get(field);
        if (mergeKey != null && base instanceof List<?> b && patch instanceof List<?> p) {
            List<Object> out = new ArrayList<>(b);
            for (Object item : p) {
                Object key = map(item).get(mergeKey);
                int i = indexOf(out, mergeKey, key);
                if (i < 0) {
                    out.add(item);
                } else {
                    out.set(i, strategicMerge(out.get(i), item, ""));
                }
            }
            return out;
        }
        return patch;
    }

    private static int indexOf(List<Object> items, String mergeKey, Object key) {
        for (int i = 0; i < items.size(); i++) {
            if (Objects.equals(map(items.get(i)).get(mergeKey), key)) {
                return i;
            }
        }
        return -1;
    }

    @SuppressWarnings("unchecked")
    private static void jsonPatch(Map<String, Object> resource, Map<String, Object> op) {
        String[] path = text(op, "path").substring(1).split("/");
        Object parent = resource;
        for (int i = 0; i < path.length - 1; i++) {
            parent = parent instanceof List<?> l ? l.get(Integer.parseInt(path[i])) : map(parent).get(path[i]);
            if (parent == null) {
                throw new AssertionError("JSON patch path " + op.get("path") + " does not exist in " + resource.get("kind"));
            }
        }
        String last = path[path.length - 1];
        String kind = text(op, "op");
        if (!(parent instanceof Map)) {
            throw new AssertionError("JSON patch path " + op.get("path") + ": only object members are supported");
        }
        Map<String, Object> target = (Map<String, Object>) parent;
        switch (kind) {
            case "replace" -> {
                if (!target.containsKey(last)) {
                    throw new AssertionError("JSON patch replaces a missing member: " + op.get("path"));
                }
                target.put(last, op.get("value"));
            }
            case "add" -> target.put(last, op.get("value"));
            case "remove" -> {
                if (target.remove(last) == null) {
                    throw new AssertionError("JSON patch removes a missing member: " + op.get("path"));
                }
            }
            default -> throw new AssertionError("JSON patch operation not supported here: " + kind);
        }
    }

    private static void setImage(List<Map<String, Object>> resources, String name, String newName, String newTag) {
        for (Map<String, Object> r : resources) {
            Object spec = DeployFiles.find(r, "spec", "template", "spec");
            if (spec == null) {
                continue;
            }
            for (String field : List.of("initContainers", "containers")) {
                Object containers = DeployFiles.find(spec, field);
                if (containers == null) {
                    continue;
                }
                for (Map<String, Object> c : maps(list(spec, field))) {
                    String image = text(c, "image");
                    String imageName = image.contains(":") ? image.substring(0, image.lastIndexOf(':')) : image;
                    if (imageName.equals(name)) {
                        c.put("image", (newName == null ? name : newName) + ":" + newTag);
                    }
                }
            }
        }
    }
}
