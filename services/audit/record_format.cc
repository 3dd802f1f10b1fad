#include "services/audit/record_format.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace iam::audit {
namespace {

constexpr size_t kSequenceDigits = 20;

absl::StatusOr<int64_t> ParseDigits(absl::string_view digits,
                                    absl::string_view key) {
  int64_t sequence = 0;
  if (digits.size() != kSequenceDigits ||
      !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(digits, &sequence)) {
    return absl::DataLossError(absl::StrCat("malformed audit key \"",
                                            absl::CHexEscape(key), "\""));
  }
  return sequence;
}

}  // namespace

std::string SequenceKey(absl::string_view prefix, int64_t sequence) {
  return absl::StrFormat("%s%020d", prefix, sequence);
}

absl::StatusOr<int64_t> ParseSequenceKey(absl::string_view prefix,
                                         absl::string_view key) {
  absl::string_view digits = key;
  if (!absl::ConsumePrefix(&digits, prefix)) {
    return absl::DataLossError(absl::StrCat("malformed audit key \"",
                                            absl::CHexEscape(key), "\""));
  }
  return ParseDigits(digits, key);
}

std::string IndexValuePrefix(absl::string_view index, absl::string_view value) {
  return absl::StrCat(index, value, absl::string_view("\0", 1));
}

absl::StatusOr<int64_t> IndexKeySequence(absl::string_view key) {
  if (key.size() < kSequenceDigits) {
    return absl::DataLossError(absl::StrCat("malformed audit index key \"",
                                            absl::CHexEscape(key), "\""));
  }
  return ParseDigits(key.substr(key.size() - kSequenceDigits), key);
}

std::vector<std::string> IndexKeys(const iam::v1::AuditRecord& record) {
  const int64_t seq = record.sequence();
  const std::string digits = absl::StrFormat("%020d", seq);
  std::vector<std::string> keys;
  absl::flat_hash_set<absl::string_view> people;
  if (!record.person_id().empty()) people.insert(record.person_id());
  for (const iam::v1::AuditDecision& d : record.decisions()) {
    if (!d.person_id().empty()) people.insert(d.person_id());
  }
  for (absl::string_view person : people) {
    keys.push_back(absl::StrCat(IndexValuePrefix(kPersonIndex, person), digits));
  }
  if (!record.caller().empty()) {
    keys.push_back(
        absl::StrCat(IndexValuePrefix(kCallerIndex, record.caller()), digits));
  }
  if (!record.target().empty()) {
    keys.push_back(
        absl::StrCat(IndexValuePrefix(kTargetIndex, record.target()), digits));
  }
  if (record.kind() == iam::v1::AUDIT_RECORD_KIND_ALERT) {
    keys.push_back(SequenceKey(kAlertIndex, seq));
  }
  return keys;
}

std::string DeterministicBytes(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeWithCachedSizes(&coded);
    // ByteSizeLong caches the sizes SerializeWithCachedSizes needs.
  }
  return out;
}

std::string CanonicalBytes(const iam::v1::AuditRecord& record) {
  if (record.reason_erased()) {
    iam::v1::AuditRecord copy = record;
    copy.clear_reason_erased();
    copy.ByteSizeLong();
    return DeterministicBytes(copy);
  }
  record.ByteSizeLong();
  return DeterministicBytes(record);
}

std::string CheckpointSignedBytes(const iam::v1::AuditCheckpoint& checkpoint) {
  iam::v1::AuditCheckpoint copy = checkpoint;
  copy.clear_signature();
  copy.ByteSizeLong();
  return DeterministicBytes(copy);
}

std::string Sha256(absl::string_view data) {
  std::string out(kHashBytes, '\0');
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(),
                 reinterpret_cast<unsigned char*>(out.data()), &size,
                 EVP_sha256(), nullptr) != 1 ||
      size != kHashBytes) {
    // Only an OpenSSL without SHA-256 gets here: nothing can be chained.
    std::abort();
  }
  return out;
}

std::string GenesisHash() { return std::string(kHashBytes, '\0'); }

absl::string_view LabelValue(const iam::v1::AuditRecord& record,
                             absl::string_view key) {
  for (const iam::v1::AuditLabel& label : record.labels()) {
    if (label.key() == key) return label.value();
  }
  return "";
}

}  // namespace iam::audit
