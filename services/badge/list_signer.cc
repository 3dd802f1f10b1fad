#include "services/badge/list_signer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace iam::badge {
namespace {

constexpr size_t kPublicKeyLength = 32;
constexpr size_t kSignatureLength = 64;

absl::StatusOr<EVP_PKEY*> Generate() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  bool ok = ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 &&
            EVP_PKEY_keygen(ctx, &key) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return absl::InternalError("cannot generate an Ed25519 key");
  return key;
}

absl::Status WriteNewKey(const std::string& path, EVP_PKEY* key) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot create the door-list signing key ", path, ": ",
                     std::strerror(errno)));
  }
  FILE* f = fdopen(fd, "w");
  bool ok = f != nullptr &&
            PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = (f != nullptr && fflush(f) == 0 && fsync(fd) == 0) && ok;
  if (f != nullptr) {
    fclose(f);
  } else {
    close(fd);
  }
  if (!ok) {
    unlink(path.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot write the door-list signing key ", path));
  }
  return absl::OkStatus();
}

}  // namespace

ListSigner::ListSigner(EVP_PKEY* key) : key_(key) {
  unsigned char raw[kPublicKeyLength];
  size_t len = sizeof(raw);
  EVP_PKEY_get_raw_public_key(key_, raw, &len);
  public_key_.assign(reinterpret_cast<char*>(raw), len);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(raw, len, digest);
  key_id_ = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<char*>(digest), 8));
}

ListSigner::~ListSigner() { EVP_PKEY_free(key_); }

absl::StatusOr<std::unique_ptr<ListSigner>> ListSigner::Ephemeral() {
  absl::StatusOr<EVP_PKEY*> key = Generate();
  if (!key.ok()) return key.status();
  return std::unique_ptr<ListSigner>(new ListSigner(*key));
}

absl::StatusOr<std::unique_ptr<ListSigner>> ListSigner::Open(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return absl::UnavailableError(
          absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
    }
    absl::StatusOr<EVP_PKEY*> key = Generate();
    if (!key.ok()) return key.status();
    absl::Status written = WriteNewKey(path, *key);
    if (!written.ok()) {
      EVP_PKEY_free(*key);
      return written;
    }
    return std::unique_ptr<ListSigner>(new ListSigner(*key));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the door-list signing key ", path,
        " is readable by others; chmod 600 it (and consider it leaked)"));
  }
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  fclose(f);
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return absl::FailedPreconditionError(absl::StrCat(
        path, " does not hold an Ed25519 private key in PEM; move it away to "
              "have a new key created (controllers must then pin the new key)"));
  }
  return std::unique_ptr<ListSigner>(new ListSigner(key));
}

absl::StatusOr<std::string> ListSigner::Sign(absl::string_view data) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[kSignatureLength];
  size_t len = sizeof(sig);
  bool ok = ctx != nullptr &&
            EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
            EVP_DigestSign(ctx, sig, &len,
                           reinterpret_cast<const unsigned char*>(data.data()),
                           data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return absl::InternalError("Ed25519 signing failed");
  return std::string(reinterpret_cast<char*>(sig), len);
}

absl::Status VerifySignature(absl::string_view public_key, absl::string_view data,
                             absl::string_view signature) {
  if (public_key.size() != kPublicKeyLength || signature.size() != kSignatureLength) {
    return absl::InvalidArgumentError("malformed Ed25519 key or signature");
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(public_key.data()), public_key.size());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = key != nullptr && ctx != nullptr &&
            EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx,
                             reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return absl::InvalidArgumentError("the signature does not verify");
  return absl::OkStatus();
}

}  // namespace iam::badge
