#include "CYAML.h"

#include <stdlib.h>

yaml_parser_t *cyaml_parser_new(const unsigned char *input, size_t length) {
    yaml_parser_t *parser = malloc(sizeof *parser);
    if (!parser) return NULL;
    if (!yaml_parser_initialize(parser)) {
        free(parser);
        return NULL;
    }
    yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING);
    yaml_parser_set_input_string(parser, input, length);
    return parser;
}

void cyaml_parser_free(yaml_parser_t *parser) {
    if (!parser) return;
    yaml_parser_delete(parser);
    free(parser);
}
