package bip324_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestBip324(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "bip324")
}
