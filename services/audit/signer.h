// Ed25519 keys for audit checkpoints (OpenSSL EVP_PKEY_ED25519).
//
// CheckpointSigner holds the server's private key. LoadOrCreate reads it from
// a PEM (PKCS#8) file, or creates one there at first start with mode 0600 and
// writes the public key beside it ("<path>.pub", PEM) for offline
// verification. AuditPublicKey verifies signatures; it is what `iamctl audit
// verify` and outside verifiers need.
//
// Both are immutable after creation and thread-safe. Key material never
// appears in errors or logs.
#ifndef IAM_SERVICES_AUDIT_SIGNER_H_
#define IAM_SERVICES_AUDIT_SIGNER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace iam::audit {

class AuditPublicKey {
 public:
  // From a PEM SubjectPublicKeyInfo; INVALID_ARGUMENT if it is not an Ed25519
  // public key.
  static absl::StatusOr<AuditPublicKey> FromPem(absl::string_view pem);
  // From the raw 32-byte key.
  static absl::StatusOr<AuditPublicKey> FromRaw(absl::string_view raw);

  bool Verify(absl::string_view message, absl::string_view signature) const;
  const std::string& raw() const { return raw_; }
  const std::string& pem() const { return pem_; }
  // SHA-256 of raw(): what checkpoints record as key_fingerprint.
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  AuditPublicKey() = default;
  std::shared_ptr<EVP_PKEY> key_;
  std::string raw_, pem_, fingerprint_;
};

class CheckpointSigner {
 public:
  // Reads the key at `path`. If the file does not exist: with `create`,
  // generates a key and writes it (0600, refusing to overwrite) and
  // "<path>.pub"; without, NOT_FOUND. A file that is not an Ed25519 private
  // key is INVALID_ARGUMENT; a key file readable by group or others is
  // FAILED_PRECONDITION (chmod 600 it).
  static absl::StatusOr<std::unique_ptr<CheckpointSigner>> LoadOrCreate(
      const std::string& path, bool create);
  // A fresh key that lives only in memory (tests, benchmarks).
  static absl::StatusOr<std::unique_ptr<CheckpointSigner>> Generate();

  // The 64-byte Ed25519 signature of `message`.
  std::string Sign(absl::string_view message) const;
  const AuditPublicKey& public_key() const { return public_key_; }

 private:
  CheckpointSigner(std::shared_ptr<EVP_PKEY> key, AuditPublicKey public_key)
      : key_(std::move(key)), public_key_(std::move(public_key)) {}
  static absl::StatusOr<std::unique_ptr<CheckpointSigner>> FromKey(
      std::shared_ptr<EVP_PKEY> key);

  std::shared_ptr<EVP_PKEY> key_;
  AuditPublicKey public_key_;
};

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_SIGNER_H_
