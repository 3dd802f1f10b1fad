#include "services/audit/person_keys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"

namespace iam::audit {
namespace {

constexpr absl::string_view kKeyPrefix = "pk/";
constexpr size_t kTagBytes = 4;
constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kGcmTagBytes = 16;

std::string StoreKey(absl::string_view person_id) {
  return absl::StrCat(kKeyPrefix, person_id);
}

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(n)) != 1) {
    return absl::UnavailableError("the system random generator failed");
  }
  return out;
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// Fetched once: OpenSSL 3 looks an implicit EVP_aes_256_gcm() up on every
// init.
const EVP_CIPHER* AesGcm() {
  static EVP_CIPHER* const kCipher =
      EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return kCipher;
}

}  // namespace

std::string KeyId(absl::string_view person_id, absl::string_view tag) {
  return absl::StrCat(person_id, "#", absl::BytesToHexString(tag));
}

absl::StatusOr<const PersonKeyring::Key*> PersonKeyring::FindLocked(
    absl::string_view person_id) const {
  auto it = cache_.find(person_id);
  if (it != cache_.end()) return it->second.erased ? nullptr : &it->second;
  absl::StatusOr<std::string> stored =
      store_->Get(kAuditKeysColumn, StoreKey(person_id));
  if (absl::IsNotFound(stored.status())) return nullptr;
  RETURN_IF_ERROR(stored.status());
  if (stored->size() != kTagBytes + kKeyBytes) {
    return absl::DataLossError(
        absl::StrCat("the audit key of person ", person_id, " is malformed"));
  }
  Key& key = cache_[person_id];
  key.tag = stored->substr(0, kTagBytes);
  key.key = stored->substr(kTagBytes);
  return &key;
}

absl::StatusOr<iam::v1::SealedText> PersonKeyring::Seal(
    absl::string_view person_id, absl::string_view plaintext,
    absl::string_view associated_data, WriteBatch* batch) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(const Key* found, FindLocked(person_id));
  if (found == nullptr) {
    Key fresh;
    ASSIGN_OR_RETURN(fresh.tag, RandomBytes(kTagBytes));
    ASSIGN_OR_RETURN(fresh.key, RandomBytes(kKeyBytes));
    batch->Put(kAuditKeysColumn, StoreKey(person_id),
               absl::StrCat(fresh.tag, fresh.key));
    cache_[person_id] = fresh;
    staged_.emplace_back(person_id);
    found = &cache_[person_id];
  }
  iam::v1::SealedText sealed;
  sealed.set_key_id(KeyId(person_id, found->tag));
  if (nonce_pool_used_ + kNonceBytes > nonce_pool_.size()) {
    ASSIGN_OR_RETURN(nonce_pool_, RandomBytes(kNonceBytes * 256));
    nonce_pool_used_ = 0;
  }
  // Each nonce is taken once (a nonce is public: it is stored beside the
  // ciphertext).
  std::string nonce = nonce_pool_.substr(nonce_pool_used_, kNonceBytes);
  nonce_pool_used_ += kNonceBytes;
  std::string out(plaintext.size() + kGcmTagBytes, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0, final_len = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || AesGcm() == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), AesGcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(found->key.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(associated_data.data()),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + len, &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagBytes,
                          o + len + final_len) != 1) {
    return absl::InternalError("AES-256-GCM encryption failed");
  }
  sealed.set_nonce(std::move(nonce));
  sealed.set_ciphertext(std::move(out));
  return sealed;
}

absl::StatusOr<bool> PersonKeyring::StageErase(absl::string_view person_id,
                                               WriteBatch* batch) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(const Key* found, FindLocked(person_id));
  batch->Delete(kAuditKeysColumn, StoreKey(person_id));
  Key& entry = cache_[person_id];
  entry = Key();
  entry.erased = true;
  staged_.emplace_back(person_id);
  return found != nullptr;
}

void PersonKeyring::Commit() {
  absl::MutexLock lock(&mu_);
  for (const std::string& person : staged_) {
    auto it = cache_.find(person);
    // A committed erase is in the store now: no tombstone needed.
    if (it != cache_.end() && it->second.erased) cache_.erase(it);
  }
  staged_.clear();
}

void PersonKeyring::Abandon() {
  absl::MutexLock lock(&mu_);
  // Re-read from the store next time: it holds whatever really committed.
  for (const std::string& person : staged_) cache_.erase(person);
  staged_.clear();
}

absl::StatusOr<std::string> PersonKeyring::Open(
    const iam::v1::SealedText& sealed, absl::string_view associated_data) const {
  const size_t hash = sealed.key_id().rfind('#');
  if (hash == std::string::npos ||
      sealed.nonce().size() != kNonceBytes ||
      sealed.ciphertext().size() < kGcmTagBytes) {
    return absl::DataLossError("sealed audit text is malformed");
  }
  const std::string person = sealed.key_id().substr(0, hash);
  std::string key;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(const Key* found, FindLocked(person));
    if (found == nullptr || KeyId(person, found->tag) != sealed.key_id()) {
      return absl::NotFoundError(
          absl::StrCat("the key of person ", person, " was erased"));
    }
    key = found->key;
  }
  const std::string& in = sealed.ciphertext();
  const size_t text_size = in.size() - kGcmTagBytes;
  std::string out(text_size, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0, final_len = 0;
  std::string tag = in.substr(text_size);
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || AesGcm() == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), AesGcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()),
                         reinterpret_cast<const unsigned char*>(sealed.nonce().data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(associated_data.data()),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), o, &len,
                        reinterpret_cast<const unsigned char*>(in.data()),
                        static_cast<int>(text_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagBytes,
                          tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), o + len, &final_len) != 1) {
    return absl::DataLossError(
        "sealed audit text does not authenticate (changed after writing)");
  }
  out.resize(static_cast<size_t>(len + final_len));
  return out;
}

}  // namespace iam::audit
