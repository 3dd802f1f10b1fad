// SecretString: a password (or other secret) in memory. Its bytes live in a
// page of their own that is excluded from core dumps (MADV_DONTDUMP) and
// wiped (OPENSSL_cleanse) when the object is destroyed or reassigned. It has
// no operator<< and no implicit conversion, so it cannot end up in a log line
// or an error message by accident; reading it takes an explicit reveal().
//
// Also: WipeString, to clear a std::string that held a secret (a request
// field) before it is freed.
//
// Move-only. Not thread-safe: one owner at a time.
#ifndef IAM_SERVICES_PASSWORD_SECRET_H_
#define IAM_SERVICES_PASSWORD_SECRET_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace iam::password {

class SecretString {
 public:
  // Largest secret held, in bytes (one page).
  static constexpr size_t kCapacity = 4096;

  SecretString() = default;
  // Copies `value`. RESOURCE_EXHAUSTED if it exceeds kCapacity or memory
  // cannot be mapped; the message never contains the value.
  static absl::StatusOr<SecretString> Copy(absl::string_view value);

  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  ~SecretString();

  // The secret's bytes. Valid until this object changes or is destroyed.
  absl::string_view reveal() const { return absl::string_view(data_, size_); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  void Release();

  char* data_ = nullptr;  // a kCapacity-byte mapping, or null when empty
  size_t size_ = 0;
};

// Overwrites every byte of `s` (up to its capacity) and clears it.
void WipeString(std::string* s);

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_SECRET_H_
