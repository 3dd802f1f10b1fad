#include "services/identity/person_registry.h"

#include <cstdint>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/memory/memory.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/common/status_macros.h"

namespace iam::identity {
namespace {

using iam::v1::AttestationType;
using iam::v1::Person;
using iam::v1::PersonStatus;

constexpr absl::string_view kPersonPrefix = "person/";
constexpr absl::string_view kPageTokenPrefix = "p:";
constexpr int kMaxNameLength = 64;
constexpr int kMaxDisplayNameLength = 200;
constexpr int kMaxAsciiFieldLength = 100;
constexpr int kMaxGroups = 100;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

// Fields an update mask can name.
enum Field : uint32_t {
  kDisplayName = 1u << 0,
  kOrgUnit = 1u << 1,
  kJobCode = 1u << 2,
  kManagerId = 1u << 3,
  kSite = 1u << 4,
  kStatus = 1u << 5,
  kGroups = 1u << 6,
  kAllFields = (1u << 7) - 1,
};

struct MaskPath {
  absl::string_view path;
  Field field;
};
constexpr MaskPath kMaskPaths[] = {
    {"display_name", kDisplayName},
    {"org_unit", kOrgUnit},
    {"job_code", kJobCode},
    {"manager_id", kManagerId},
    {"site", kSite},
    {"status", kStatus},
    {"groups", kGroups},
};

std::string PersonKey(absl::string_view id) {
  return absl::StrCat(kPersonPrefix, id);
}

// Quotes caller-supplied text for an error message.
std::string Quote(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
}

// Ids, manager ids and group names: 1-64 characters of [A-Za-z0-9._:-].
absl::Status ValidateName(absl::string_view value, absl::string_view field) {
  if (value.empty())
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (value.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be at most ", kMaxNameLength,
                     " characters (got ", value.size(), ")"));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (!IsNameChar(value[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " ", Quote(value),
                       " may contain only letters, digits and . _ : - (found ",
                       Quote(value.substr(i, 1)), " at position ", i, ")"));
    }
  }
  return absl::OkStatus();
}

// Decodes the UTF-8 code point at s[*pos] and advances *pos past it. False
// for malformed, overlong or surrogate encodings.
bool NextCodePoint(absl::string_view s, size_t* pos, char32_t* code_point) {
  const unsigned char lead = static_cast<unsigned char>(s[*pos]);
  if (lead < 0x80) {
    *code_point = lead;
    ++*pos;
    return true;
  }
  size_t length;
  char32_t cp;
  char32_t min;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
    min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
    min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
    min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - *pos < length) return false;
  for (size_t i = 1; i < length; ++i) {
    const unsigned char next = static_cast<unsigned char>(s[*pos + i]);
    if ((next & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (next & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  *code_point = cp;
  *pos += length;
  return true;
}

// Control characters, line/paragraph separators and bidirectional overrides:
// they break the admin screens and logs a display name is shown in, or let
// it pose as another name.
bool IsForbiddenInDisplayName(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 ||
         cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

absl::Status ValidateDisplayName(absl::string_view name) {
  if (name.empty())
    return absl::InvalidArgumentError("display_name is required");
  size_t pos = 0;
  int characters = 0;
  bool blank = true;
  while (pos < name.size()) {
    const size_t start = pos;
    char32_t cp;
    if (!NextCodePoint(name, &pos, &cp)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "display_name is not valid UTF-8 (bad byte at offset ", start, ")"));
    }
    if (IsForbiddenInDisplayName(cp)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "display_name must not contain control or bidirectional formatting "
          "characters (found U+%04X at character %d)",
          static_cast<uint32_t>(cp), characters + 1));
    }
    if (cp != ' ') blank = false;
    ++characters;
  }
  if (characters > kMaxDisplayNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("display_name must be at most ", kMaxDisplayNameLength,
                     " characters (got ", characters, ")"));
  }
  if (blank)
    return absl::InvalidArgumentError("display_name must not be blank");
  return absl::OkStatus();
}

// org_unit, job_code, site: up to 100 characters of printable ASCII.
absl::Status ValidateAsciiField(absl::string_view value,
                                absl::string_view field, bool required,
                                bool allow_spaces) {
  if (value.empty()) {
    if (!required) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (value.size() > kMaxAsciiFieldLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be at most ", kMaxAsciiFieldLength,
                     " characters (got ", value.size(), ")"));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c > 0x7E) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s must be printable ASCII (found byte 0x%02X at position %d)",
          field, c, i));
    }
    if (c == ' ' && !allow_spaces) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " must not contain spaces (found one at position ", i, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateGroups(const Person& person) {
  if (person.groups_size() > kMaxGroups) {
    return absl::InvalidArgumentError(
        absl::StrCat("a person may be in at most ", kMaxGroups, " groups (got ",
                     person.groups_size(), ")"));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < person.groups_size(); ++i) {
    const std::string& group = person.groups(i);
    RETURN_IF_ERROR(ValidateName(group, absl::StrCat("groups[", i, "]")));
    if (!seen.insert(group).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("groups lists ", Quote(group), " more than once"));
    }
  }
  return absl::OkStatus();
}

// Checks the `fields` of `person` that need no other state. The id is
// checked by the caller.
absl::Status ValidateFields(const Person& person, uint32_t fields) {
  if (fields & kDisplayName)
    RETURN_IF_ERROR(ValidateDisplayName(person.display_name()));
  if (fields & kOrgUnit) {
    RETURN_IF_ERROR(ValidateAsciiField(person.org_unit(), "org_unit",
                                       /*required=*/false,
                                       /*allow_spaces=*/true));
  }
  if (fields & kJobCode) {
    RETURN_IF_ERROR(ValidateAsciiField(person.job_code(), "job_code",
                                       /*required=*/true,
                                       /*allow_spaces=*/false));
  }
  if (fields & kSite) {
    RETURN_IF_ERROR(ValidateAsciiField(person.site(), "site",
                                       /*required=*/true,
                                       /*allow_spaces=*/false));
  }
  if ((fields & kManagerId) && !person.manager_id().empty()) {
    RETURN_IF_ERROR(ValidateName(person.manager_id(), "manager_id"));
    if (person.manager_id() == person.id()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "person ", Quote(person.id()), " cannot be their own manager"));
    }
  }
  if (fields & kStatus) {
    if (!iam::v1::PersonStatus_IsValid(person.status())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "status ", person.status(), " is not a known PersonStatus"));
    }
    if (person.status() == iam::v1::PERSON_STATUS_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          "status must be set (PENDING, ACTIVE, SUSPENDED or LEFT): the "
          "update_mask names it, or is empty and so names every field");
    }
  }
  if (fields & kGroups) RETURN_IF_ERROR(ValidateGroups(person));
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ParseUpdateMask(const std::vector<std::string>& mask) {
  if (mask.empty()) return kAllFields;
  uint32_t fields = 0;
  for (const std::string& path : mask) {
    bool known = false;
    for (const MaskPath& candidate : kMaskPaths) {
      if (path == candidate.path) {
        fields |= candidate.field;
        known = true;
        break;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown update_mask path ", Quote(path),
          "; allowed: display_name, org_unit, job_code, manager_id, site, "
          "status, groups"));
    }
  }
  return fields;
}

void CopyFields(const Person& from, uint32_t fields, Person* to) {
  if (fields & kDisplayName) to->set_display_name(from.display_name());
  if (fields & kOrgUnit) to->set_org_unit(from.org_unit());
  if (fields & kJobCode) to->set_job_code(from.job_code());
  if (fields & kManagerId) to->set_manager_id(from.manager_id());
  if (fields & kSite) to->set_site(from.site());
  if (fields & kStatus) to->set_status(from.status());
  if (fields & kGroups) *to->mutable_groups() = from.groups();
}

std::string EncodePageToken(absl::string_view last_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(kPageTokenPrefix, last_id));
}

// The id a page token continues after.
absl::StatusOr<std::string> DecodePageToken(absl::string_view token) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(token, &decoded) ||
      !absl::StartsWith(decoded, kPageTokenPrefix) ||
      !ValidateName(absl::string_view(decoded).substr(kPageTokenPrefix.size()),
                    "id")
           .ok()) {
    return absl::InvalidArgumentError(
        "page_token is malformed; pass the next_page_token of an earlier "
        "response, or an empty token for the first page");
  }
  return decoded.substr(kPageTokenPrefix.size());
}

bool Matches(const Person& person, const iam::v1::ListPeopleRequest& request) {
  return (request.org_unit().empty() ||
          person.org_unit() == request.org_unit()) &&
         (request.site().empty() || person.site() == request.site()) &&
         (request.job_code().empty() ||
          person.job_code() == request.job_code()) &&
         (request.manager_id().empty() ||
          person.manager_id() == request.manager_id()) &&
         (request.status() == iam::v1::PERSON_STATUS_UNSPECIFIED ||
          person.status() == request.status());
}

absl::Status LeftError(absl::string_view id) {
  return absl::FailedPreconditionError(absl::StrCat(
      "person ", Quote(id),
      " has left; LEFT is final and a person who left cannot be changed "
      "(someone who returns is created again under a new id)"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PersonRegistry>> PersonRegistry::Open(
    Store* store, const Clock* clock) {
  if (store == nullptr || clock == nullptr) {
    return absl::InvalidArgumentError(
        "PersonRegistry needs a store and a clock");
  }
  PersonMap people;
  absl::Status load_error;
  RETURN_IF_ERROR(store->Scan(
      kIdentityColumn, kPersonPrefix,
      [&](absl::string_view key, absl::string_view value) {
        Person person;
        if (!person.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          load_error = absl::DataLossError(absl::StrCat(
              "stored person at key ", Quote(key), " cannot be parsed"));
          return false;
        }
        if (key != PersonKey(person.id())) {
          load_error = absl::DataLossError(absl::StrCat("stored person at key ",
                                                        Quote(key), " has id ",
                                                        Quote(person.id())));
          return false;
        }
        std::string id = person.id();
        people.emplace(std::move(id), std::move(person));
        return true;
      }));
  RETURN_IF_ERROR(load_error);
  return absl::WrapUnique(new PersonRegistry(store, clock, std::move(people)));
}

PersonRegistry::PersonRegistry(Store* store, const Clock* clock,
                               PersonMap people)
    : store_(store), clock_(clock), people_(std::move(people)) {}

absl::StatusOr<std::pair<Person, Revision>> PersonRegistry::Create(
    Person person, const CommitFn& commit) {
  person.clear_attestations();
  person.set_revision(0);
  if (person.status() == iam::v1::PERSON_STATUS_UNSPECIFIED) {
    person.set_status(iam::v1::PERSON_STATUS_PENDING);
  }
  RETURN_IF_ERROR(ValidateName(person.id(), "id"));
  RETURN_IF_ERROR(ValidateFields(person, kAllFields));

  absl::MutexLock write_lock(&write_mu_);
  if (Find(person.id()).ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("person ", Quote(person.id()),
                     " already exists; ids are never reused"));
  }
  if (!person.manager_id().empty()) {
    RETURN_IF_ERROR(CheckNewManager(person.id(), person.manager_id()));
  }
  return CommitLocked(std::move(person), commit);
}

absl::StatusOr<std::pair<Person, Revision>> PersonRegistry::Update(
    const Person& person, const std::vector<std::string>& update_mask,
    const CommitFn& commit) {
  RETURN_IF_ERROR(ValidateName(person.id(), "id"));
  ASSIGN_OR_RETURN(const uint32_t fields, ParseUpdateMask(update_mask));
  RETURN_IF_ERROR(ValidateFields(person, fields));

  absl::MutexLock write_lock(&write_mu_);
  ASSIGN_OR_RETURN(Person updated, Find(person.id()));
  if (updated.status() == iam::v1::PERSON_STATUS_LEFT)
    return LeftError(person.id());
  const bool manager_changed =
      (fields & kManagerId) && person.manager_id() != updated.manager_id();
  CopyFields(person, fields, &updated);
  if (manager_changed && !updated.manager_id().empty()) {
    RETURN_IF_ERROR(CheckNewManager(updated.id(), updated.manager_id()));
  }
  return CommitLocked(std::move(updated), commit);
}

absl::StatusOr<Person> PersonRegistry::Get(absl::string_view id) const {
  RETURN_IF_ERROR(ValidateName(id, "id"));
  return Find(id);
}

absl::StatusOr<iam::v1::ListPeopleResponse> PersonRegistry::List(
    const iam::v1::ListPeopleRequest& request) const {
  int page_size = request.page_size();
  if (page_size < 0 || page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be between 1 and ", kMaxPageSize,
                     " (0 means ", kDefaultPageSize, "); got ", page_size));
  }
  if (page_size == 0) page_size = kDefaultPageSize;
  std::string after;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(after, DecodePageToken(request.page_token()));
  }
  if (!iam::v1::PersonStatus_IsValid(request.status())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "status ", request.status(), " is not a known PersonStatus"));
  }

  iam::v1::ListPeopleResponse response;
  absl::ReaderMutexLock lock(&mu_);
  auto it = after.empty() ? people_.begin() : people_.upper_bound(after);
  for (; it != people_.end(); ++it) {
    if (!Matches(it->second, request)) continue;
    if (response.people_size() == page_size) {
      // Another match exists: hand out a token for it.
      response.set_next_page_token(
          EncodePageToken(response.people(page_size - 1).id()));
      break;
    }
    *response.add_people() = it->second;
  }
  return response;
}

absl::StatusOr<std::pair<Person, Revision>> PersonRegistry::RecordAttestation(
    absl::string_view person_id, AttestationType type,
    absl::string_view recorded_by, const CommitFn& commit) {
  RETURN_IF_ERROR(ValidateName(person_id, "person_id"));
  if (type == iam::v1::ATTESTATION_TYPE_UNSPECIFIED ||
      !iam::v1::AttestationType_IsValid(type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("attestation type ", static_cast<int>(type),
                     " is not a known AttestationType"));
  }
  if (recorded_by.empty()) {
    return absl::InvalidArgumentError(
        "recorded_by (the authenticated caller) is required");
  }

  absl::MutexLock write_lock(&write_mu_);
  ASSIGN_OR_RETURN(Person person, Find(person_id));
  if (person.status() == iam::v1::PERSON_STATUS_LEFT)
    return LeftError(person_id);
  iam::v1::Attestation* attestation = nullptr;
  for (iam::v1::Attestation& existing : *person.mutable_attestations()) {
    if (existing.type() == type) attestation = &existing;
  }
  if (attestation == nullptr) attestation = person.add_attestations();
  attestation->set_type(type);
  attestation->set_recorded_at_unix(absl::ToUnixSeconds(clock_->Now()));
  attestation->set_recorded_by(std::string(recorded_by));
  return CommitLocked(std::move(person), commit);
}

std::vector<Person> PersonRegistry::All() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<Person> people;
  people.reserve(people_.size());
  for (const auto& [id, person] : people_) people.push_back(person);
  return people;
}

absl::StatusOr<Person> PersonRegistry::Find(absl::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = people_.find(id);
  if (it == people_.end()) {
    return absl::NotFoundError(absl::StrCat("no person with id ", Quote(id)));
  }
  return it->second;
}

absl::Status PersonRegistry::CheckNewManager(
    absl::string_view person_id, absl::string_view manager_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto manager = people_.find(manager_id);
  if (manager == people_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("manager_id ", Quote(manager_id),
                     " is not a known person; create the manager first"));
  }
  if (manager->second.status() == iam::v1::PERSON_STATUS_LEFT) {
    return absl::FailedPreconditionError(absl::StrCat(
        "manager_id ", Quote(manager_id), " names a person who has left"));
  }
  // Walk up from the new manager; reaching person_id closes a cycle. `seen`
  // only guards against a cycle already in stored data.
  std::vector<std::string> chain = {std::string(person_id),
                                    std::string(manager_id)};
  absl::flat_hash_set<std::string> seen = {std::string(manager_id)};
  for (auto it = manager; it != people_.end();) {
    const std::string& next = it->second.manager_id();
    if (next.empty()) break;
    chain.push_back(next);
    if (next == person_id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "manager_id ", Quote(manager_id),
          " would create a manager cycle: ", absl::StrJoin(chain, " -> ")));
    }
    if (!seen.insert(next).second) break;
    it = people_.find(next);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<Person, Revision>> PersonRegistry::CommitLocked(
    Person person, const CommitFn& commit) {
  // The stored copy carries its own revision, which is only known once the
  // commit returns. Predict it; the prediction is exact unless another writer
  // of the shared store committed in between, and never too high.
  const Revision predicted = store_->CurrentRevision() + 1;
  person.set_revision(predicted);
  const std::string key = PersonKey(person.id());
  WriteBatch batch;
  batch.Put(kIdentityColumn, key, person.SerializeAsString());
  ASSIGN_OR_RETURN(const Revision revision,
                   CommitThrough(commit, *store_, batch));
  if (revision != predicted) {
    // Correct the stored copy. Unsynced is enough: if a crash loses the
    // correction, the copy that survives names an earlier revision than the
    // real one, never a later one.
    person.set_revision(revision);
    WriteBatch correction;
    correction.Put(kIdentityColumn, key, person.SerializeAsString());
    store_->WriteUnsynced(correction).IgnoreError();
  }
  {
    absl::MutexLock lock(&mu_);
    people_[person.id()] = person;
  }
  return std::make_pair(std::move(person), revision);
}

}  // namespace iam::identity
