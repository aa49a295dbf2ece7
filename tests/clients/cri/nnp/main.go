// Command nnp prints its effective uid. The stand-in for critest's nonewprivs image
// installs it set-user-ID root: run as uid 1000, it prints 0 unless no_new_privs
// keeps the exec from raising the effective uid.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("Effective uid: %d\n", os.Geteuid())
}
