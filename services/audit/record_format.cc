#include "services/audit/record_format.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/common/status_macros.h"

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
  std::string key(prefix.size() + 20, '0');
  std::memcpy(key.data(), prefix.data(), prefix.size());
  // Sequences are never negative; 20 digits hold any int64.
  uint64_t v = sequence < 0 ? 0 : static_cast<uint64_t>(sequence);
  for (size_t i = key.size(); v != 0; v /= 10) {
    key[--i] = static_cast<char>('0' + v % 10);
  }
  return key;
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

std::vector<std::string> IndexPrefixes(const iam::v1::AuditRecord& record) {
  std::vector<std::string> prefixes;
  absl::flat_hash_set<absl::string_view> people;
  if (!record.person_id().empty()) people.insert(record.person_id());
  for (const iam::v1::AuditDecision& d : record.decisions()) {
    if (!d.person_id().empty()) people.insert(d.person_id());
  }
  for (absl::string_view person : people) {
    prefixes.push_back(IndexValuePrefix(kPersonIndex, person));
  }
  if (!record.caller().empty()) {
    prefixes.push_back(IndexValuePrefix(kCallerIndex, record.caller()));
  }
  if (!record.target().empty()) {
    prefixes.push_back(IndexValuePrefix(kTargetIndex, record.target()));
  }
  if (record.kind() == iam::v1::AUDIT_RECORD_KIND_ALERT) {
    prefixes.emplace_back(kAlertIndex);
  }
  return prefixes;
}

std::string EncodePosting(const std::vector<int64_t>& sequences) {
  std::string out;
  for (size_t i = 1; i < sequences.size(); ++i) {
    uint64_t delta = static_cast<uint64_t>(sequences[i] - sequences[i - 1]);
    while (delta >= 0x80) {
      out.push_back(static_cast<char>((delta & 0x7f) | 0x80));
      delta >>= 7;
    }
    out.push_back(static_cast<char>(delta));
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> DecodePosting(absl::string_view key,
                                                   absl::string_view value) {
  ASSIGN_OR_RETURN(int64_t sequence, IndexKeySequence(key));
  std::vector<int64_t> out = {sequence};
  uint64_t delta = 0;
  int shift = 0;
  for (const char c : value) {
    const uint8_t byte = static_cast<uint8_t>(c);
    if (shift > 56) break;  // reported below
    delta |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte & 0x80) {
      shift += 7;
      continue;
    }
    sequence += static_cast<int64_t>(delta);
    if (delta == 0 || sequence - out.front() >= kMaxPostingSpan) {
      return absl::DataLossError(absl::StrCat(
          "malformed audit index entry \"", absl::CHexEscape(key), "\""));
    }
    out.push_back(sequence);
    delta = 0;
    shift = 0;
  }
  if (shift != 0) {
    return absl::DataLossError(absl::StrCat("malformed audit index entry \"",
                                            absl::CHexEscape(key), "\""));
  }
  return out;
}

void AppendIndexEntries(const iam::v1::AuditRecord& record, IndexEntries* out) {
  for (std::string& prefix : IndexPrefixes(record)) {
    out->emplace_back(std::move(prefix), record.sequence());
  }
}

void PostingBuilder::Add(const iam::v1::AuditRecord& record) {
  for (std::string& prefix : IndexPrefixes(record)) {
    Add(std::move(prefix), record.sequence());
  }
}

void PostingBuilder::Add(std::string prefix, int64_t sequence) {
  std::vector<int64_t>& list = sequences_[std::move(prefix)];
  // Ascending only: a posting's deltas must be positive.
  if (list.empty() || sequence > list.back()) list.push_back(sequence);
}

std::vector<std::pair<std::string, std::string>> PostingBuilder::TakePuts() {
  std::vector<const std::pair<const std::string, std::vector<int64_t>>*> sorted;
  sorted.reserve(sequences_.size());
  for (const auto& entry : sequences_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  std::vector<std::pair<std::string, std::string>> puts;
  puts.reserve(sorted.size());
  std::vector<int64_t> run;
  for (const auto* entry : sorted) {
    const std::string& prefix = entry->first;
    for (const int64_t sequence : entry->second) {
      if (!run.empty() && sequence - run.front() >= kMaxPostingSpan) {
        puts.emplace_back(SequenceKey(prefix, run.front()), EncodePosting(run));
        run.clear();
      }
      run.push_back(sequence);
    }
    if (!run.empty()) {
      puts.emplace_back(SequenceKey(prefix, run.front()), EncodePosting(run));
      run.clear();
    }
  }
  sequences_.clear();
  return puts;
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
  // Fetched once: OpenSSL 3 looks an implicit EVP_sha256() up on every use.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>
      ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string out(kHashBytes, '\0');
  unsigned int size = 0;
  if (kSha256 == nullptr || ctx == nullptr ||
      EVP_DigestInit_ex(ctx.get(), kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()),
                         &size) != 1 ||
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
