#include "services/audit/signer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "services/audit/record_format.h"
#include "services/common/status_macros.h"

namespace iam::audit {
namespace {

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

bool IsEd25519(EVP_PKEY* key) {
  return key != nullptr && EVP_PKEY_get_id(key) == EVP_PKEY_ED25519;
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : "";
}

absl::StatusOr<std::string> PublicPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return absl::InternalError("cannot encode the audit public key as PEM");
  }
  return BioString(bio.get());
}

absl::StatusOr<std::string> PrivatePem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1) {
    return absl::InternalError("cannot encode the audit signing key as PEM");
  }
  return BioString(bio.get());
}

absl::StatusOr<std::string> RawPublic(EVP_PKEY* key) {
  size_t size = 32;
  std::string raw(size, '\0');
  if (EVP_PKEY_get_raw_public_key(
          key, reinterpret_cast<unsigned char*>(raw.data()), &size) != 1 ||
      size != 32) {
    return absl::InternalError("cannot read the raw Ed25519 public key");
  }
  return raw;
}

// Writes `data` to a new file `path` with `mode`; fails if it exists.
absl::Status WriteNewFile(const std::string& path, const std::string& data,
                          mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        mode);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return absl::UnavailableError(
          absl::StrCat("cannot write ", path, ": ", std::strerror(err)));
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    return absl::UnavailableError(absl::StrCat("cannot sync ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AuditPublicKey> AuditPublicKey::FromPem(absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* raw_key =
      bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  std::shared_ptr<EVP_PKEY> key = Own(raw_key);
  if (!IsEd25519(key.get())) {
    return absl::InvalidArgumentError(
        "not a PEM Ed25519 public key (expected \"-----BEGIN PUBLIC KEY-----\" "
        "as written by iamd beside its signing key)");
  }
  AuditPublicKey out;
  ASSIGN_OR_RETURN(out.raw_, RawPublic(key.get()));
  ASSIGN_OR_RETURN(out.pem_, PublicPem(key.get()));
  out.fingerprint_ = Sha256(out.raw_);
  out.key_ = std::move(key);
  return out;
}

absl::StatusOr<AuditPublicKey> AuditPublicKey::FromRaw(absl::string_view raw) {
  if (raw.size() != 32) {
    return absl::InvalidArgumentError("an Ed25519 public key has 32 bytes");
  }
  std::shared_ptr<EVP_PKEY> key = Own(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
  if (!key) return absl::InvalidArgumentError("not an Ed25519 public key");
  AuditPublicKey out;
  out.raw_ = std::string(raw);
  ASSIGN_OR_RETURN(out.pem_, PublicPem(key.get()));
  out.fingerprint_ = Sha256(out.raw_);
  out.key_ = std::move(key);
  return out;
}

bool AuditPublicKey::Verify(absl::string_view message,
                            absl::string_view signature) const {
  if (!key_ || signature.size() != 64) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  return ctx &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr,
                              key_.get()) == 1 &&
         EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size(),
             reinterpret_cast<const unsigned char*>(message.data()),
             message.size()) == 1;
}

absl::StatusOr<std::unique_ptr<CheckpointSigner>> CheckpointSigner::FromKey(
    std::shared_ptr<EVP_PKEY> key) {
  ASSIGN_OR_RETURN(std::string pem, PublicPem(key.get()));
  ASSIGN_OR_RETURN(AuditPublicKey public_key, AuditPublicKey::FromPem(pem));
  return std::unique_ptr<CheckpointSigner>(
      new CheckpointSigner(std::move(key), std::move(public_key)));
}

absl::StatusOr<std::unique_ptr<CheckpointSigner>> CheckpointSigner::Generate() {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* raw_key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &raw_key) != 1) {
    return absl::InternalError("cannot generate an Ed25519 key");
  }
  return FromKey(Own(raw_key));
}

absl::StatusOr<std::unique_ptr<CheckpointSigner>> CheckpointSigner::LoadOrCreate(
    const std::string& path, bool create) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot stat audit key file ", path, ": ",
                       std::strerror(errno)));
    }
    if (!create) {
      return absl::NotFoundError(
          absl::StrCat("audit signing key ", path, " does not exist"));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<CheckpointSigner> signer, Generate());
    ASSIGN_OR_RETURN(std::string private_pem, PrivatePem(signer->key_.get()));
    RETURN_IF_ERROR(WriteNewFile(path, private_pem, 0600));
    const std::string pub_path = path + ".pub";
    ::unlink(pub_path.c_str());  // a stale public key would mislead
    RETURN_IF_ERROR(WriteNewFile(pub_path, signer->public_key().pem(), 0644));
    return signer;
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "audit signing key ", path,
        " is readable by group or others; run chmod 600 on it"));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read audit signing key ", path));
  }
  const std::string pem = data.str();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::shared_ptr<EVP_PKEY> key = Own(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
          : nullptr);
  if (!IsEd25519(key.get())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audit signing key ", path,
        " is not a PEM Ed25519 private key; remove it to have iamd create "
        "one, or pass the right file"));
  }
  return FromKey(std::move(key));
}

std::string CheckpointSigner::Sign(absl::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  std::string signature(64, '\0');
  size_t size = signature.size();
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()),
                     &size, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      size != 64) {
    // A loaded Ed25519 key always signs; failing here is a broken OpenSSL.
    std::abort();
  }
  return signature;
}

}  // namespace iam::audit
