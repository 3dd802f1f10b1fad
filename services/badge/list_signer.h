// ListSigner: signs offline door lists with an Ed25519 key (OpenSSL), kept
// in the data directory as a PKCS#8 PEM file readable only by its owner and
// created on first use. The private key never leaves this object; errors
// name the file, never its contents. VerifyDoorList lets door controllers
// (and tests) check a list against the pinned public key.
// Thread-safe: the key is immutable after Open.
#ifndef IAM_SERVICES_BADGE_LIST_SIGNER_H_
#define IAM_SERVICES_BADGE_LIST_SIGNER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace iam::badge {

class ListSigner {
 public:
  // Loads the key from `path`, or creates it (mode 0600) if the file does
  // not exist. FAILED_PRECONDITION if the file exists but is not an Ed25519
  // private key, or is readable by others; UNAVAILABLE for I/O errors.
  static absl::StatusOr<std::unique_ptr<ListSigner>> Open(const std::string& path);
  // A key that lives only in memory, for tests.
  static absl::StatusOr<std::unique_ptr<ListSigner>> Ephemeral();
  ~ListSigner();
  ListSigner(const ListSigner&) = delete;
  ListSigner& operator=(const ListSigner&) = delete;

  // The 64-byte Ed25519 signature of `data`.
  absl::StatusOr<std::string> Sign(absl::string_view data) const;
  // The raw 32-byte public key, and its id: hex of the first 8 bytes of its
  // SHA-256.
  const std::string& public_key() const { return public_key_; }
  const std::string& key_id() const { return key_id_; }

 private:
  explicit ListSigner(EVP_PKEY* key);
  EVP_PKEY* key_;
  std::string public_key_;
  std::string key_id_;
};

// OK if `signature` is a valid Ed25519 signature of `data` under the raw
// 32-byte `public_key`; INVALID_ARGUMENT otherwise.
absl::Status VerifySignature(absl::string_view public_key, absl::string_view data,
                             absl::string_view signature);

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_LIST_SIGNER_H_
