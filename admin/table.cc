#include "admin/table.h"

#include <algorithm>
#include <cassert>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "admin/text.h"

namespace iam::admin {
namespace {

void PrintPadded(std::ostream& out, const std::string& cell, size_t width) {
  out << cell;
  const size_t used = DisplayWidth(cell);
  if (used < width) out << std::string(width - used, ' ');
}

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {
  for (std::string& header : headers_) header = SanitizeForTerminal(header);
}

void Table::AddRow(std::vector<std::string> cells) {
  assert(cells.size() == headers_.size());
  for (std::string& cell : cells) {
    cell = cell.empty() ? "-" : SanitizeForTerminal(cell);
  }
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(headers_.size(), 0);
  const auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  };
  measure(headers_);
  for (const auto& row : rows_) measure(row);

  const auto print_row = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out << "  ";
      if (i + 1 == row.size()) {  // No padding: no trailing spaces.
        out << row[i];
      } else {
        PrintPadded(out, row[i], widths[i]);
      }
    }
    out << '\n';
  };
  print_row(headers_);
  for (const auto& row : rows_) print_row(row);
}

std::string Table::ToString() const {
  std::ostringstream out;
  Print(out);
  return out.str();
}

void FieldList::Add(absl::string_view key, absl::string_view value) {
  fields_.emplace_back(std::string(key),
                       std::vector<std::string>{std::string(value)});
}

void FieldList::AddList(absl::string_view key,
                        const std::vector<std::string>& values) {
  fields_.emplace_back(std::string(key), values);
}

void FieldList::Print(std::ostream& out) const {
  size_t key_width = 0;
  for (const auto& field : fields_) {
    key_width =
        std::max(key_width, DisplayWidth(SanitizeForTerminal(field.first)) + 1);
  }
  for (const auto& [key, values] : fields_) {
    const std::string label = absl::StrCat(SanitizeForTerminal(key), ":");
    if (values.empty()) {
      PrintPadded(out, label, key_width);
      out << "  -\n";
      continue;
    }
    for (size_t i = 0; i < values.size(); ++i) {
      const std::string value =
          values[i].empty() ? "-" : SanitizeForTerminal(values[i]);
      PrintPadded(out, i == 0 ? label : std::string(), key_width);
      out << "  " << value << '\n';
    }
  }
}

std::string FieldList::ToString() const {
  std::ostringstream out;
  Print(out);
  return out.str();
}

}  // namespace iam::admin
