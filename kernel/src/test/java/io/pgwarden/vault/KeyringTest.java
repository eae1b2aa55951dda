package io.pgwarden.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyringTest {
    @TempDir
    Path dir;

    @Test
    void onlyTheMasterKeyThatWrappedTheKeyringUnlocksItAndTheMessageNamesBothKeys() throws Exception {
        Path file = dir.resolve("store.keyring");
        try (MasterKey right = MasterKey.generate("test"); MasterKey wrong = MasterKey.generate("the wrong file");
             Keyring.Keys created = Keyring.create(file, right)) {
            try (Keyring.Keys again = Keyring.unlock(file, right)) {
                assertThat(again.filePassword()).isEqualTo(created.filePassword());
            }
            assertThatThrownBy(() -> Keyring.unlock(file, wrong)).isInstanceOf(VaultException.class)
                    .hasMessageContaining("the wrong file (key id " + wrong.id() + ")")
                    .hasMessageContaining("(key id " + right.id() + ")");
        }
    }

    @Test
    void aRotationInterruptedAfterTheKeyringWasWrittenStillOpensWithTheOldKeyOrTheNew() throws Exception {
        Path file = dir.resolve("store.keyring");
        try (MasterKey old = MasterKey.generate("old"); MasterKey next = MasterKey.generate("new")) {
            char[] password;
            try (Keyring.Keys keys = Keyring.create(file, old)) {
                password = keys.filePassword();
            }
            assertThatThrownBy(() -> Keyring.rewrap(file, old, next, () -> {
                // The crash: the new key file was never written.
                try (Keyring.Keys byOld = Keyring.unlock(file, old); Keyring.Keys byNew = Keyring.unlock(file, next)) {
                    assertThat(byOld.filePassword()).isEqualTo(password);
                    assertThat(byNew.filePassword()).isEqualTo(password);
                }
                throw new VaultException("disk full");
            })).hasMessage("disk full");
            try (Keyring.Keys stillOld = Keyring.unlock(file, old)) {
                assertThat(stillOld.filePassword()).isEqualTo(password);
            }
            Keyring.rewrap(file, old, next, () -> { });
            assertThatThrownBy(() -> Keyring.unlock(file, old)).isInstanceOf(VaultException.class);
            try (Keyring.Keys byNew = Keyring.unlock(file, next)) {
                assertThat(byNew.filePassword()).isEqualTo(password);
            }
        }
        assertThat(Files.readString(file)).doesNotContain("\"key\"");
    }

    @Test
    void aSecretSealedUnderOneNameDoesNotOpenUnderAnother() throws Exception {
        byte[] key = Aead.randomKey();
        byte[] sealed = Aead.seal(key, "pw".getBytes(), "pgwarden vault v1 secret: a".getBytes());
        assertThat(Aead.open(key, sealed, "pgwarden vault v1 secret: a".getBytes())).isEqualTo("pw".getBytes());
        assertThatThrownBy(() -> Aead.open(key, sealed, "pgwarden vault v1 secret: b".getBytes()))
                .isInstanceOf(VaultException.class);
        sealed[sealed.length - 1] ^= 1;
        assertThatThrownBy(() -> Aead.open(key, sealed, "pgwarden vault v1 secret: a".getBytes()))
                .isInstanceOf(VaultException.class);
    }
}
