#include "product_policy.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

namespace bazaar::catalog {
namespace {

const std::string kSeller = "0190f5c2-7a1b-7c3d-8e4f-000000000001";
const std::string kOtherSeller = "0190f5c2-7a1b-7c3d-8e4f-000000000002";
const std::string kAdmin = "0190f5c2-7a1b-7c3d-8e4f-0000000000aa";
const std::string kBuyer = "0190f5c2-7a1b-7c3d-8e4f-0000000000bb";

const std::optional<ProductOwnership> kUnknown = std::nullopt;
const std::optional<ProductOwnership> kActive = ProductOwnership{kSeller, false};
const std::optional<ProductOwnership> kDeleted = ProductOwnership{kSeller, true};

// nullopt in `expected` means the command is allowed.
struct Row {
  const char* name;
  Actor actor;
  std::optional<ProductOwnership> existing;
  std::optional<Refusal> expected;
};

void check_rows(const std::vector<Row>& rows, auto decide) {
  for (const auto& row : rows) {
    CAPTURE(row.name);
    const auto got = decide(row.actor, row.existing);
    if (row.expected) {
      REQUIRE(got.has_value());
      CHECK(got->reason == *row.expected);
      CHECK_FALSE(got->detail.empty());
    } else {
      CHECK_FALSE(got.has_value());
    }
  }
}

}  // namespace

TEST_CASE("create product policy table") {
  const std::vector<Row> rows = {
      {"seller for self", {kSeller, Role::seller}, kUnknown, std::nullopt},
      {"seller for another seller", {kOtherSeller, Role::seller}, kUnknown, Refusal::forbidden},
      {"admin for any seller", {kAdmin, Role::admin}, kUnknown, std::nullopt},
      {"buyer", {kBuyer, Role::buyer}, kUnknown, Refusal::forbidden},
      {"buyer naming own id as seller", {kSeller, Role::buyer}, kUnknown, Refusal::forbidden},
      {"seller for self on existing id", {kSeller, Role::seller}, kActive, Refusal::already_exists},
      {"admin on existing id", {kAdmin, Role::admin}, kActive, Refusal::already_exists},
      {"deleted id is not reused", {kSeller, Role::seller}, kDeleted, Refusal::already_exists},
      {"forbidden wins over already exists", {kBuyer, Role::buyer}, kActive, Refusal::forbidden},
  };
  check_rows(rows, [](const Actor& a, const std::optional<ProductOwnership>& e) {
    return decide_create(a, kSeller, e);
  });
}

TEST_CASE("update product policy table") {
  const std::vector<Row> rows = {
      {"owner seller", {kSeller, Role::seller}, kActive, std::nullopt},
      {"admin", {kAdmin, Role::admin}, kActive, std::nullopt},
      {"other seller", {kOtherSeller, Role::seller}, kActive, Refusal::forbidden},
      {"buyer", {kBuyer, Role::buyer}, kActive, Refusal::forbidden},
      {"buyer with the owner's id", {kSeller, Role::buyer}, kActive, Refusal::forbidden},
      {"unknown product", {kSeller, Role::seller}, kUnknown, Refusal::not_found},
      {"deleted product by owner", {kSeller, Role::seller}, kDeleted, Refusal::not_found},
      {"deleted product by admin", {kAdmin, Role::admin}, kDeleted, Refusal::not_found},
  };
  check_rows(rows, decide_update);
}

TEST_CASE("delete product policy table") {
  const std::vector<Row> rows = {
      {"admin", {kAdmin, Role::admin}, kActive, std::nullopt},
      {"owner seller", {kSeller, Role::seller}, kActive, Refusal::forbidden},
      {"buyer", {kBuyer, Role::buyer}, kActive, Refusal::forbidden},
      {"admin on unknown", {kAdmin, Role::admin}, kUnknown, Refusal::not_found},
      {"admin on deleted", {kAdmin, Role::admin}, kDeleted, Refusal::not_found},
      {"seller on unknown is forbidden", {kSeller, Role::seller}, kUnknown, Refusal::forbidden},
  };
  check_rows(rows, decide_delete);
}

TEST_CASE("roles and refusals have their wire names") {
  CHECK(parse_role("admin") == Role::admin);
  CHECK(parse_role("seller") == Role::seller);
  CHECK(parse_role("buyer") == Role::buyer);
  CHECK_FALSE(parse_role("Admin").has_value());
  CHECK_FALSE(parse_role("").has_value());
  CHECK(to_string(Refusal::not_found) == "not_found");
  CHECK(to_string(Refusal::forbidden) == "forbidden");
  CHECK(to_string(Refusal::already_exists) == "already_exists");
  CHECK(to_string(Refusal::invalid) == "invalid");
}

}  // namespace bazaar::catalog
