// Aligned plain-text output for iamctl: tables with a header row, and
// "key: value" field lists for showing one object.
//
// Cells are sanitized (see text.h) and aligned by terminal display width, so
// names in Chinese line up as well as ASCII ones. Columns are separated by
// two spaces; an empty cell prints as "-" so that no column is left blank;
// no line has trailing spaces. Not thread-safe; build and print from one
// thread.
#ifndef IAM_ADMIN_TABLE_H_
#define IAM_ADMIN_TABLE_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace iam::admin {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // REQUIRES: cells.size() equals the number of headers.
  void AddRow(std::vector<std::string> cells);

  size_t num_rows() const { return rows_.size(); }

  // The header row and every row; the header is printed even with no rows.
  void Print(std::ostream& out) const;
  std::string ToString() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "key: value" lines with the values aligned. A list value prints one item
// per line under the first; an empty value or list prints "-".
class FieldList {
 public:
  void Add(absl::string_view key, absl::string_view value);
  void AddList(absl::string_view key, const std::vector<std::string>& values);

  void Print(std::ostream& out) const;
  std::string ToString() const;

 private:
  std::vector<std::pair<std::string, std::vector<std::string>>> fields_;
};

}  // namespace iam::admin

#endif  // IAM_ADMIN_TABLE_H_
