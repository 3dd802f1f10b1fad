#include "services/password/secret.h"

#include <sys/mman.h>

#include <cstring>
#include <utility>

#include <openssl/crypto.h>

namespace iam::password {

absl::StatusOr<SecretString> SecretString::Copy(absl::string_view value) {
  if (value.size() > kCapacity) {
    return absl::ResourceExhaustedError(
        "the secret is longer than this server holds (4096 bytes)");
  }
  SecretString s;
  if (value.empty()) return s;
  void* page = mmap(nullptr, kCapacity, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    return absl::ResourceExhaustedError("cannot allocate memory for a secret");
  }
  // Best effort: a kernel without MADV_DONTDUMP still gets the wipe.
  madvise(page, kCapacity, MADV_DONTDUMP);
  s.data_ = static_cast<char*>(page);
  std::memcpy(s.data_, value.data(), value.size());
  s.size_ = value.size();
  return s;
}

SecretString::SecretString(SecretString&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretString::~SecretString() { Release(); }

void SecretString::Release() {
  if (data_ != nullptr) {
    OPENSSL_cleanse(data_, kCapacity);
    munmap(data_, kCapacity);
  }
  data_ = nullptr;
  size_ = 0;
}

void WipeString(std::string* s) {
  if (s->capacity() > 0) {
    // Resize to capacity so the whole buffer, not only the used part, is
    // ours to overwrite.
    s->resize(s->capacity());
    OPENSSL_cleanse(&(*s)[0], s->size());
  }
  s->clear();
}

}  // namespace iam::password
