package io.dermcap.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import io.dermcap.storage.FetchException.Reason;

/** Reads {@code file://} objects confined to the root: symlinks are resolved and must stay inside it too. */
final class FileReader {

    private final Path root;
    private final long maxBytes;

    FileReader(Path root, long maxBytes) {
        this.root = root;
        this.maxBytes = maxBytes;
    }

    byte[] read(ObjectLocation.File location) throws FetchException, TransientFailure {
        Path real;
        try {
            real = location.path().toRealPath();
            Path realRoot = root.toRealPath();
            if (!real.startsWith(realRoot)) {
                throw new FetchException(Reason.URI_NOT_ALLOWED, false, 0, location.path()
                        + " leads outside the allowed root through a symbolic link", null);
            }
        } catch (NoSuchFileException e) {
            throw new FetchException(Reason.OBJECT_MISSING, false, 0, "no such file: " + location.path(), e);
        } catch (IOException e) {
            throw new TransientFailure("cannot resolve " + location.path() + ": " + e, e);
        }
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            throw new FetchException(Reason.OBJECT_MISSING, false, 0, location.path() + " is not a regular file", null);
        }
        // NOFOLLOW_LINKS: the resolved path must not have become a link since it was checked
        try (InputStream in = Files.newInputStream(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            return BoundedRead.readAll(in, Files.size(real), maxBytes, location.path().toString());
        } catch (NoSuchFileException e) {
            throw new FetchException(Reason.OBJECT_MISSING, false, 0, "no such file: " + location.path(), e);
        } catch (AccessDeniedException e) {
            throw new FetchException(Reason.FETCH_FAILED, false, 0, "permission denied: " + location.path(), e);
        } catch (IOException e) {
            throw new TransientFailure("cannot read " + location.path() + ": " + e, e);
        }
    }
}
