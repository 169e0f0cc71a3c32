# Every target in the tree is built warning-free; -Werror keeps it so.
add_compile_options(-Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
