#ifndef CYAML_H
#define CYAML_H

#include <stddef.h>
#include <yaml.h>

/* libyaml (Debian libyaml-dev: <yaml.h>, libyaml.so; libyaml.a for release builds, see the Makefile's
 * `release`), the YAML 1.1 parser under PyYAML and Yams. Swift uses its event API (yaml_parser_parse,
 * yaml_event_delete) directly; the two functions below only hide the parser's allocation and set-up. */

/* A UTF-8 parser over `length` bytes at `input`, which must outlive it; NULL when out of memory.
 * Free it with cyaml_parser_free. */
yaml_parser_t *cyaml_parser_new(const unsigned char *input, size_t length);

/* Deletes and frees a parser made by cyaml_parser_new (NULL is ignored). */
void cyaml_parser_free(yaml_parser_t *parser);

#endif
