// PersonDirectory: what the password service needs to know about a person
// from the identity service: that they exist, their status (only ACTIVE
// people log in) and their display name (a password may not contain it).
// In iamd it reads the co-hosted identity registry
// (registry_person_directory.h); over the API it is IdentityService.GetPerson
// (grpc_person_directory.h); tests use a fake. Implementations are
// thread-safe.
#ifndef IAM_SERVICES_PASSWORD_PERSON_DIRECTORY_H_
#define IAM_SERVICES_PASSWORD_PERSON_DIRECTORY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/iam/v1/common.pb.h"
#include "proto/iam/v1/identity.pb.h"

namespace iam::password {

struct PersonRecord {
  std::string id;
  std::string display_name;
  iam::v1::PersonStatus status = iam::v1::PERSON_STATUS_UNSPECIFIED;
};

// What the password service keeps of an identity record.
inline PersonRecord PersonRecordOf(const iam::v1::Person& person) {
  return PersonRecord{person.id(), person.display_name(), person.status()};
}

class PersonDirectory {
 public:
  virtual ~PersonDirectory() = default;
  // The person, NOT_FOUND if there is no such person, UNAVAILABLE (or
  // another error) when it cannot be known: callers fail closed.
  virtual absl::StatusOr<PersonRecord> Get(absl::string_view id) = 0;
};

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_PERSON_DIRECTORY_H_
