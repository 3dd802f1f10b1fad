#include "services/password/password_text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <openssl/crypto.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace iam::password {
namespace {

// Wipes a UnicodeString's buffer before it is freed.
void Wipe(icu::UnicodeString* s) {
  const int32_t capacity = s->getCapacity();
  char16_t* buffer = s->getBuffer(capacity);
  if (buffer != nullptr) OPENSSL_cleanse(buffer, capacity * sizeof(char16_t));
  s->releaseBuffer(0);
}

// Appends `s` as UTF-8 to a secret-sized buffer without leaving copies.
class SecretSink : public icu::ByteSink {
 public:
  void Append(const char* bytes, int32_t n) override {
    if (overflow_ || used_ + static_cast<size_t>(n) > sizeof(buffer_)) {
      overflow_ = true;
      return;
    }
    std::memcpy(buffer_ + used_, bytes, n);
    used_ += n;
  }
  ~SecretSink() override { OPENSSL_cleanse(buffer_, sizeof(buffer_)); }
  bool overflow() const { return overflow_; }
  absl::string_view view() const { return absl::string_view(buffer_, used_); }

 private:
  char buffer_[SecretString::kCapacity];
  size_t used_ = 0;
  bool overflow_ = false;
};

bool Forbidden(UChar32 c) {
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
    case U_UNASSIGNED:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<NormalizedPassword> NormalizePassword(absl::string_view raw,
                                                     absl::string_view field) {
  if (raw.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (raw.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", raw.size(), " bytes long; at most ",
                     kMaxPasswordBytes, " are accepted"));
  }
  // Validate code point by code point so the error can say where.
  int32_t i = 0;
  int position = 0;
  const int32_t length = static_cast<int32_t>(raw.size());
  while (i < length) {
    UChar32 c;
    U8_NEXT(reinterpret_cast<const uint8_t*>(raw.data()), i, length, c);
    ++position;
    if (c < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " is not valid UTF-8 (at character ", position, ")"));
    }
    if (Forbidden(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " contains a control or non-printable character (character ",
          position, "); use printable characters and spaces only"));
    }
  }

  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(error);
  if (U_FAILURE(error)) {
    return absl::InternalError(
        absl::StrCat("Unicode normalizer unavailable: ", u_errorName(error)));
  }
  icu::UnicodeString input = icu::UnicodeString::fromUTF8(
      icu::StringPiece(raw.data(), static_cast<int32_t>(raw.size())));
  icu::UnicodeString normal;
  nfkc->normalize(input, normal, error);
  Wipe(&input);
  if (U_FAILURE(error)) {
    Wipe(&normal);
    return absl::InvalidArgumentError(
        absl::StrCat(field, " cannot be normalized (NFKC): ", u_errorName(error)));
  }

  NormalizedPassword out;
  for (int32_t k = 0; k < normal.length();) {
    UChar32 c = normal.char32At(k);
    k += U16_LENGTH(c);
    ++out.code_points;
    if (u_isULowercase(c)) {
      ++out.lowercase;
    } else if (u_isUUppercase(c)) {
      ++out.uppercase;
    } else if (u_isdigit(c)) {
      ++out.digits;
    } else if (!u_isUAlphabetic(c) && !u_isUWhiteSpace(c)) {
      ++out.symbols;
    }
  }
  SecretSink sink;
  normal.toUTF8(sink);
  Wipe(&normal);
  if (sink.overflow()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is too long after Unicode normalization; use fewer characters"));
  }
  absl::StatusOr<SecretString> text = SecretString::Copy(sink.view());
  if (!text.ok()) return text.status();
  out.text = std::move(*text);
  return out;
}

std::string FoldForCompare(absl::string_view text) {
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(error);
  icu::UnicodeString input = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString folded;
  if (U_SUCCESS(error)) nfkc_cf->normalize(input, folded, error);
  if (U_FAILURE(error)) folded = input.foldCase();
  std::string out;
  folded.toUTF8String(out);
  Wipe(&input);
  Wipe(&folded);
  return out;
}

}  // namespace iam::password
