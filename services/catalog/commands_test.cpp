#include "commands.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "events/schema_registry.hpp"
#include "product.hpp"

namespace bazaar::catalog {
namespace {

const char* const kProduct = "0190f5c2-7a1b-7c3d-8e4f-123456789abc";
const char* const kSeller = "0190f5c2-7a1b-7c3d-8e4f-000000000001";
const char* const kAdmin = "0190f5c2-7a1b-7c3d-8e4f-0000000000aa";

boost::json::object create_payload() {
  return boost::json::parse(R"({"product_id":"0190f5c2-7a1b-7c3d-8e4f-123456789abc",
    "seller_id":"0190f5c2-7a1b-7c3d-8e4f-000000000001","name":"Tea pot","price":1250,
    "currency":"EUR","category":"kitchen","initial_stock":7})")
      .as_object();
}

Product sample_product() {
  auto cmd = parse_create(create_payload());
  REQUIRE(cmd.ok());
  Product p = cmd.value().product;
  p.created_at = "2026-11-23T10:00:00.000Z";
  p.updated_at = p.created_at;
  return p;
}

const events::SchemaRegistry& schemas() {
  static const events::SchemaRegistry registry(BAZAAR_SCHEMAS_DIR);
  return registry;
}

void check_valid(const char* type, const boost::json::object& payload) {
  const auto valid = schemas().validate(type, payload);
  CHECK_MESSAGE(valid.ok(), (valid.ok() ? std::string{} : valid.error().message));
}

}  // namespace

TEST_CASE("create without actor fields acts as the seller") {
  const auto cmd = parse_create(create_payload());
  REQUIRE(cmd.ok());
  CHECK(cmd.value().actor.id == kSeller);
  CHECK(cmd.value().actor.role == Role::seller);
  CHECK(cmd.value().product.product_id == kProduct);
  CHECK(cmd.value().product.price == 1250);
  CHECK(cmd.value().product.description.empty());
  CHECK(cmd.value().initial_stock == 7);
}

TEST_CASE("create with actor fields keeps them") {
  auto payload = create_payload();
  payload["actor_id"] = kAdmin;
  payload["actor_role"] = "admin";
  payload["description"] = "Blue";
  const auto cmd = parse_create(payload);
  REQUIRE(cmd.ok());
  CHECK(cmd.value().actor.id == kAdmin);
  CHECK(cmd.value().actor.role == Role::admin);
  CHECK(cmd.value().product.description == "Blue");
}

TEST_CASE("create without a required field is an error value") {
  auto payload = create_payload();
  payload.erase("price");
  const auto cmd = parse_create(payload);
  REQUIRE_FALSE(cmd.ok());
  CHECK(cmd.error().code == "invalid");
}

TEST_CASE("update applies only the fields it carries") {
  const auto cmd = parse_update(boost::json::parse(R"({
    "product_id":"0190f5c2-7a1b-7c3d-8e4f-123456789abc","price":990,
    "actor_id":"0190f5c2-7a1b-7c3d-8e4f-000000000001","actor_role":"seller"})")
                                    .as_object());
  REQUIRE(cmd.ok());
  CHECK(cmd.value().actor.role == Role::seller);
  Product p = sample_product();
  apply_changes(p, cmd.value());
  CHECK(p.price == 990);
  CHECK(p.name == "Tea pot");
  CHECK(p.category == "kitchen");
  CHECK(p.currency == "EUR");
}

TEST_CASE("update and delete need their actor") {
  CHECK_FALSE(parse_update(boost::json::parse(R"({"product_id":"x"})").as_object()).ok());
  CHECK_FALSE(parse_delete(boost::json::parse(R"({"product_id":"x","actor_id":"y"})").as_object())
                  .ok());
  const auto del = parse_delete(boost::json::parse(R"({"product_id":"p","actor_id":"a",
    "actor_role":"admin"})")
                                    .as_object());
  REQUIRE(del.ok());
  CHECK(del.value().actor.role == Role::admin);
}

TEST_CASE("emitted payloads satisfy their schemas") {
  const Product p = sample_product();
  check_valid("bazaar.catalog.ProductCreated.v1", created_payload(p, 7));
  check_valid("bazaar.catalog.ProductUpdated.v1", updated_payload(p));
  check_valid("bazaar.catalog.ProductDeleted.v1", deleted_payload(p, "2026-11-23T11:00:00.000Z"));
  const Rejection why{Refusal::forbidden, "no"};
  const auto rejected = rejected_payload(kProduct, kCreateProduct, why, kSeller);
  check_valid("bazaar.catalog.ProductCommandRejected.v1", rejected);
  CHECK(rejected.at("reason").as_string() == "forbidden");
  CHECK(rejected.at("command").as_string() == kCreateProduct);
  CHECK_FALSE(rejected_payload(kProduct, kCreateProduct, why, "").contains("actor_id"));
}

TEST_CASE("product status has stored names") {
  CHECK(to_string(ProductStatus::active) == "ACTIVE");
  CHECK(parse_status("DELETED") == ProductStatus::deleted);
  CHECK_FALSE(parse_status("gone").has_value());
  Product p = sample_product();
  p.status = ProductStatus::deleted;
  CHECK(ownership_of(p).deleted);
  CHECK(ownership_of(p).seller_id == kSeller);
}

}  // namespace bazaar::catalog
